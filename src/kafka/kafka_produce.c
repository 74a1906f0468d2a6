/* kafka: Produce and InitProducerId.
 *
 * Each partition's record set goes to log_append as the producer sent it (the log validates
 * CRCs, lengths, magic and idempotent sequences, assigns offsets in place and never
 * recompresses). The response goes out once every partition's append is durable (acks=1 and
 * acks=-1 alike: on one node the ISR is the leader, DECISIONS.md), from whichever thread
 * completes last. acks=0 gets no response; if anything fails the connection is closed, as Kafka
 * does, so that the producer notices. */
#include "kafka/kafka_int.h"

typedef struct produce produce_t;

typedef struct {
    produce_t *pr;
    kafka_PartitionProduceResponse_t *out;
} part_ctx_t;

struct produce {
    kafka_req_t *r;
    kafka_ProduceResponse_t resp;
    atomic_int pending;   /* appends in flight, plus one held by the handler while it runs */
    atomic_bool failed;
    bool acks0;
};

static void produce_finish(produce_t *pr) {
    kafka_req_t *r = pr->r;
    if (pr->acks0) kafka_req_drop(r, atomic_load(&pr->failed));
    else kafka_req_reply(r, &pr->resp); /* pr lives in r's arena: freed here */
}

static void produce_unref(produce_t *pr) {
    if (atomic_fetch_sub_explicit(&pr->pending, 1, memory_order_acq_rel) == 1) produce_finish(pr);
}

static void on_appended(void *arg, int status, const log_append_result_t *res) {
    part_ctx_t *pc = arg;
    if (status == EDDY_OK && res) {
        pc->out->error_code = KERR_NONE;
        pc->out->base_offset = res->base_offset;
        pc->out->log_append_time_ms = res->log_append_time;
        pc->out->log_start_offset = res->log_start_offset;
    } else {
        pc->out->error_code = status == EDDY_ERR_CLOSED ? KERR_UNKNOWN_TOPIC_OR_PARTITION : KERR_KAFKA_STORAGE_ERROR;
        atomic_store(&pc->pr->failed, true);
    }
    produce_unref(pc->pr);
}

void kafka_handle_Produce(kafka_req_t *r) {
    kafka_ProduceRequest_t *req = r->req.body;
    kafka_broker_t *b = r->b;
    produce_t *pr = arena_alloc(&r->arena, sizeof *pr);
    if (!pr) {
        kafka_req_drop(r, true);
        return;
    }
    memset(pr, 0, sizeof *pr);
    pr->r = r;
    pr->acks0 = req->acks == 0;
    atomic_init(&pr->pending, 1);
    atomic_init(&pr->failed, false);
    kafka_struct_init(&kafka_schema_ProduceResponse, r->req.api_version, &pr->resp);
    int16_t all_error = KERR_NONE;
    bool refused = false; /* a partition answered with an error before any append */
    if (req->acks != 0 && req->acks != 1 && req->acks != -1) all_error = KERR_INVALID_REQUIRED_ACKS;
    else if (req->transactional_id.len >= 0) all_error = KERR_INVALID_TXN_STATE; /* no transactions */
    int32_t ntopics = EDDY_MAX(req->topic_data.count, 0);
    KAFKA_ARRAY_ALLOC(&r->arena, pr->resp.responses, ntopics);
    if (ntopics && !pr->resp.responses.items) {
        kafka_req_drop(r, true);
        return;
    }
    for (int32_t t = 0; t < ntopics; t++) {
        const kafka_TopicProduceData_t *td = &req->topic_data.items[t];
        kafka_TopicProduceResponse_t *tr = &pr->resp.responses.items[t];
        kafka_struct_init(&kafka_schema_TopicProduceResponse, r->req.api_version, tr);
        tr->name = td->name;
        int32_t nparts = EDDY_MAX(td->partition_data.count, 0);
        KAFKA_ARRAY_ALLOC(&r->arena, tr->partition_responses, nparts);
        if (nparts && !tr->partition_responses.items) {
            tr->partition_responses.count = 0;
            refused = true;
            continue;
        }
        const char *topic = kafka_req_cstr(r, td->name);
        for (int32_t i = 0; i < nparts; i++) {
            const kafka_PartitionProduceData_t *pd = &td->partition_data.items[i];
            kafka_PartitionProduceResponse_t *out = &tr->partition_responses.items[i];
            kafka_struct_init(&kafka_schema_PartitionProduceResponse, r->req.api_version, out);
            out->index = pd->index;
            out->base_offset = -1;
            if (all_error || pd->records.len <= 0) {
                out->error_code = all_error ? all_error : KERR_CORRUPT_MESSAGE;
                refused = true;
                continue;
            }
            log_err_t err = {0};
            log_partition_t *p = NULL;
            int rc = log_partition_open(b->log, topic, pd->index, b->opts.auto_create_topics ? LOG_OPEN_AUTO_CREATE : 0,
                                        &p, &err);
            if (rc != EDDY_OK) {
                out->error_code = kafka_error_from_log(rc, &err);
                refused = true;
                continue;
            }
            metrics_counter_add(b->m_produce_bytes, (uint64_t)pd->records.len);
            part_ctx_t *pc = arena_alloc(&r->arena, sizeof *pc);
            if (!pc) {
                log_partition_release(p);
                out->error_code = KERR_UNKNOWN_SERVER_ERROR;
                refused = true;
                continue;
            }
            pc->pr = pr;
            pc->out = out;
            atomic_fetch_add(&pr->pending, 1);
            /* The record set is a view into r->frame, which is ours to modify: the log writes the
             * assigned base offsets into it. */
            rc = log_append(p, (uint8_t *)pd->records.ptr, (size_t)pd->records.len, on_appended, pc, &err);
            log_partition_release(p);
            if (rc != EDDY_OK) {
                out->error_code = kafka_error_from_log(rc, &err);
                elog_debug("kafka", "produce to %s-%d refused: %s", topic, pd->index, err.msg);
                refused = true;
                atomic_fetch_sub(&pr->pending, 1);
            }
        }
    }
    if (refused) atomic_store(&pr->failed, true); /* acks=0: close the connection */
    produce_unref(pr);
}

/* ---- InitProducerId -------------------------------------------------------------------------- */

void kafka_handle_InitProducerId(kafka_req_t *r) {
    kafka_InitProducerIdRequest_t *req = r->req.body;
    kafka_InitProducerIdResponse_t resp;
    kafka_struct_init(&kafka_schema_InitProducerIdResponse, r->req.api_version, &resp);
    if (req->transactional_id.len >= 0) {
        /* Transactions are not supported: no transaction coordinator. */
        resp.error_code = KERR_COORDINATOR_NOT_AVAILABLE;
        kafka_req_reply(r, &resp);
        return;
    }
    if (req->producer_id >= 0 && req->producer_epoch >= 0 && req->producer_epoch < INT16_MAX - 1) {
        /* KIP-360: an idempotent producer bumps its epoch after a sequence error and keeps its id. */
        resp.producer_id = req->producer_id;
        resp.producer_epoch = (int16_t)(req->producer_epoch + 1);
        kafka_req_reply(r, &resp);
        return;
    }
    log_err_t err = {0};
    int64_t id;
    int rc = log_producer_id_alloc(r->b->log, &id, &err);
    if (rc != EDDY_OK) {
        resp.error_code = kafka_error_from_log(rc, &err);
    } else {
        resp.producer_id = id;
        resp.producer_epoch = 0;
    }
    kafka_req_reply(r, &resp);
}
