/* The schema registry's state and operations, compatible with Confluent Schema Registry for Avro.
 *
 * State: schemas by global id (normalized text and parsed form), subjects with their versions
 * (each naming a schema id, possibly soft-deleted), compatibility levels (global and per
 * subject). It is stored as Confluent stores it: records on a compacted topic `_schemas`
 * (key {"keytype":"SCHEMA","subject":s,"version":v,"magic":1}, value {"subject","version","id",
 * "schema","deleted"}; CONFIG records for levels; a null value deletes), replayed at start, so
 * ids are stable across restarts and a Kafka tool can read the topic.
 *
 * Mutations are serialized: one at a time is planned against the durable state, its records are
 * appended, and the state changes (and the answer goes out) only once they are durable. Reads
 * see the durable state under the mutex. Answers go to a responder from whichever thread
 * completes the operation. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>

#include "api/api_int.h"

typedef struct {
    size_t klen, vlen;
    bool null;
} reg_rec_t;

typedef enum { REG_OP_REGISTER, REG_OP_DELETE_SUBJECT, REG_OP_DELETE_VERSION, REG_OP_CONFIG } reg_op_kind_t;

typedef struct reg_op {
    struct reg_op *next;
    reg_op_kind_t kind;
    char *subject;            /* NULL: global config */
    char *schema_text;
    size_t schema_len;
    char *version;            /* "latest" or a number */
    bool permanent;
    int level;                /* config: API_COMPAT_* or -1 to delete the subject's level */
    api_registry_done_t done; /* register: the id, for the REST proxy */
    api_responder_t reply;
    /* planned records and what to answer once they are durable */
    struct api_registry *reg_owner;
    wr_t keys, values;        /* the records' bytes, back to back */
    reg_rec_t *recs;
    size_t nrec, caprec;
    int status;
    wr_t body;
    uint32_t result_id;
} reg_op_t;

static const char *const reg_level_names[] = {
    [API_COMPAT_NONE] = "NONE",
    [API_COMPAT_BACKWARD] = "BACKWARD",
    [API_COMPAT_BACKWARD_TRANSITIVE] = "BACKWARD_TRANSITIVE",
    [API_COMPAT_FORWARD] = "FORWARD",
    [API_COMPAT_FORWARD_TRANSITIVE] = "FORWARD_TRANSITIVE",
    [API_COMPAT_FULL] = "FULL",
    [API_COMPAT_FULL_TRANSITIVE] = "FULL_TRANSITIVE",
};

const char *api_compat_name(int level) { return reg_level_names[level]; }

int api_compat_parse(const char *s, size_t len) {
    for (int i = 0; i < (int)EDDY_ARRAY_LEN(reg_level_names); i++)
        if (strlen(reg_level_names[i]) == len && !strncasecmp(reg_level_names[i], s, len)) return i;
    return -1;
}

/* ---- answers --------------------------------------------------------------------------------- */

#define REG_CTYPE "application/vnd.schemaregistry.v1+json"

void api_registry_error(wr_t *body, int error_code, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    wr_reset(body);
    wr_str(body, "{\"error_code\":");
    json_write_i64(body, error_code);
    wr_str(body, ",\"message\":");
    json_write_string(body, msg, strlen(msg));
    wr_u8(body, '}');
}

static void reg_send(const api_responder_t *r, int status, wr_t *body) {
    if (r->send) r->send(r->ctx, status, REG_CTYPE, (const char *)body->buf, body->len);
}

/* ---- state ------------------------------------------------------------------------------------- */

api_reg_subject_t *api_reg_subject_find(api_registry_t *reg, const char *name) {
    for (uint32_t i = 0; i < reg->nsubjects; i++)
        if (!strcmp(reg->subjects[i].name, name)) return &reg->subjects[i];
    return NULL;
}

static api_reg_subject_t *reg_subject_get(api_registry_t *reg, const char *name) {
    api_reg_subject_t *s = api_reg_subject_find(reg, name);
    if (s) return s;
    if (reg->nsubjects == reg->capsubjects) {
        uint32_t cap = reg->capsubjects ? reg->capsubjects * 2 : 16;
        api_reg_subject_t *n = eddy_realloc(reg->subjects, cap * sizeof *n);
        if (!n) return NULL;
        reg->subjects = n;
        reg->capsubjects = cap;
    }
    s = &reg->subjects[reg->nsubjects];
    memset(s, 0, sizeof *s);
    s->name = eddy_strdup(name);
    s->level = -1;
    if (!s->name) return NULL;
    reg->nsubjects++;
    return s;
}

api_reg_schema_t *api_reg_schema_by_id(api_registry_t *reg, uint32_t id) {
    for (uint32_t i = 0; i < reg->nschemas; i++)
        if (reg->schemas[i].id == id) return &reg->schemas[i];
    return NULL;
}

static api_reg_schema_t *reg_schema_by_text(api_registry_t *reg, const char *text) {
    for (uint32_t i = 0; i < reg->nschemas; i++)
        if (!strcmp(reg->schemas[i].schema->text, text)) return &reg->schemas[i];
    return NULL;
}

/* Adds (or finds) schema id; takes s when it is new, frees it otherwise. */
static api_reg_schema_t *reg_schema_add(api_registry_t *reg, uint32_t id, api_avro_schema_t *s) {
    api_reg_schema_t *have = api_reg_schema_by_id(reg, id);
    if (have) {
        api_avro_schema_free(s);
        return have;
    }
    if (reg->nschemas == reg->capschemas) {
        uint32_t cap = reg->capschemas ? reg->capschemas * 2 : 16;
        api_reg_schema_t *n = eddy_realloc(reg->schemas, cap * sizeof *n);
        if (!n) {
            api_avro_schema_free(s);
            return NULL;
        }
        reg->schemas = n;
        reg->capschemas = cap;
    }
    reg->schemas[reg->nschemas] = (api_reg_schema_t){id, s};
    if (id > reg->max_id) reg->max_id = id;
    return &reg->schemas[reg->nschemas++];
}

api_reg_version_t *api_reg_version_find(api_reg_subject_t *s, int32_t version) {
    for (uint32_t i = 0; i < s->nversions; i++)
        if (s->versions[i].version == version) return &s->versions[i];
    return NULL;
}

static int reg_version_put(api_reg_subject_t *s, int32_t version, uint32_t id, bool deleted) {
    api_reg_version_t *v = api_reg_version_find(s, version);
    if (v) {
        v->id = id;
        v->deleted = deleted;
        return EDDY_OK;
    }
    if (s->nversions == s->capversions) {
        uint32_t cap = s->capversions ? s->capversions * 2 : 8;
        api_reg_version_t *n = eddy_realloc(s->versions, cap * sizeof *n);
        if (!n) return EDDY_ERR_NOMEM;
        s->versions = n;
        s->capversions = cap;
    }
    uint32_t at = s->nversions;
    while (at > 0 && s->versions[at - 1].version > version) at--;
    memmove(&s->versions[at + 1], &s->versions[at], (s->nversions - at) * sizeof *s->versions);
    s->versions[at] = (api_reg_version_t){version, id, deleted};
    s->nversions++;
    return EDDY_OK;
}

static void reg_version_remove(api_reg_subject_t *s, int32_t version) {
    for (uint32_t i = 0; i < s->nversions; i++)
        if (s->versions[i].version == version) {
            memmove(&s->versions[i], &s->versions[i + 1], (s->nversions - i - 1) * sizeof *s->versions);
            s->nversions--;
            return;
        }
}

uint32_t api_reg_live_count(const api_reg_subject_t *s) {
    uint32_t n = 0;
    for (uint32_t i = 0; s && i < s->nversions; i++) n += !s->versions[i].deleted;
    return n;
}

api_reg_version_t *api_reg_latest(api_reg_subject_t *s, bool include_deleted) {
    for (uint32_t i = s->nversions; i > 0; i--)
        if (include_deleted || !s->versions[i - 1].deleted) return &s->versions[i - 1];
    return NULL;
}

int api_reg_level_of(api_registry_t *reg, const api_reg_subject_t *s) {
    return s && s->level >= 0 ? s->level : reg->global_level;
}

/* ---- records (the _schemas topic) -------------------------------------------------------------- */

static void reg_op_record(reg_op_t *op, const char *key, size_t klen, const char *val, size_t vlen, bool null) {
    if (op->nrec == op->caprec) {
        size_t cap = op->caprec ? op->caprec * 2 : 4;
        reg_rec_t *n = eddy_realloc(op->recs, cap * sizeof *n);
        if (!n) {
            op->keys.err = EDDY_ERR_NOMEM;
            return;
        }
        op->recs = n;
        op->caprec = cap;
    }
    wr_bytes(&op->keys, key, klen);
    wr_bytes(&op->values, val, vlen);
    op->recs[op->nrec++] = (reg_rec_t){klen, vlen, null};
}

static void reg_schema_key(wr_t *w, const char *subject, int32_t version) {
    wr_str(w, "{\"keytype\":\"SCHEMA\",\"subject\":");
    json_write_string(w, subject, strlen(subject));
    wr_str(w, ",\"version\":");
    json_write_i64(w, version);
    wr_str(w, ",\"magic\":1}");
}

static void reg_op_schema_record(api_registry_t *reg, reg_op_t *op, const char *subject, int32_t version, uint32_t id,
                                 bool deleted, bool null) {
    wr_t k, v;
    wr_init(&k, 128);
    wr_init(&v, 256);
    reg_schema_key(&k, subject, version);
    if (!null) {
        const api_reg_schema_t *sc = api_reg_schema_by_id(reg, id);
        const char *text = sc ? sc->schema->text : op->schema_text;
        wr_str(&v, "{\"subject\":");
        json_write_string(&v, subject, strlen(subject));
        wr_str(&v, ",\"version\":");
        json_write_i64(&v, version);
        wr_str(&v, ",\"id\":");
        json_write_i64(&v, id);
        wr_str(&v, ",\"schema\":");
        json_write_string(&v, text, strlen(text));
        wr_str(&v, deleted ? ",\"deleted\":true}" : ",\"deleted\":false}");
    }
    if (!wr_ok(&k) || !wr_ok(&v)) op->keys.err = EDDY_ERR_NOMEM;
    reg_op_record(op, (char *)k.buf, k.len, (char *)v.buf, v.len, null);
    wr_free(&k);
    wr_free(&v);
}

static void reg_op_config_record(reg_op_t *op, const char *subject, int level) {
    wr_t k, v;
    wr_init(&k, 96);
    wr_init(&v, 64);
    wr_str(&k, "{\"keytype\":\"CONFIG\",\"subject\":");
    if (subject) json_write_string(&k, subject, strlen(subject));
    else wr_str(&k, "null");
    wr_str(&k, ",\"magic\":0}");
    if (level >= 0) wr_fmt(&v, "{\"compatibilityLevel\":\"%s\"}", reg_level_names[level]);
    if (!wr_ok(&k) || !wr_ok(&v)) op->keys.err = EDDY_ERR_NOMEM;
    reg_op_record(op, (char *)k.buf, k.len, (char *)v.buf, v.len, level < 0);
    wr_free(&k);
    wr_free(&v);
}

int api_registry_apply_record(api_registry_t *reg, const void *key, size_t klen, const void *val, size_t vlen,
                              bool null_value, char *errstr, size_t errlen) {
    json_doc_t kd, vd;
    json_doc_init(&kd);
    json_doc_init(&vd);
    int rc = EDDY_OK;
    char subject[1024] = "";
    if (json_parse(&kd, key, klen) != EDDY_OK || kd.nodes[0].type != JSON_OBJECT) {
        rc = eddy_err(errstr, errlen, EDDY_ERR_CORRUPT, "_schemas: a key is not a JSON object");
        goto out;
    }
    int64_t kt = json_object_get(&kd, 0, "keytype", 7), ks = json_object_get(&kd, 0, "subject", 7);
    if (ks >= 0 && kd.nodes[ks].type == JSON_STRING && kd.nodes[ks].len < sizeof subject) {
        long n = json_string_unescape(&kd.nodes[ks], subject);
        subject[n < 0 ? 0 : n] = 0;
    }
    if (kt < 0) goto out; /* not ours: ignored, as Confluent ignores unknown key types */
    if (json_string_eq(&kd.nodes[kt], "SCHEMA", 6)) {
        int64_t kv = json_object_get(&kd, 0, "version", 7), version;
        if (!*subject || kv < 0 || json_number_i64(&kd.nodes[kv], &version) != EDDY_OK || version < 1 || version > INT32_MAX) {
            rc = eddy_err(errstr, errlen, EDDY_ERR_CORRUPT, "_schemas: a SCHEMA key lacks subject or version");
            goto out;
        }
        api_reg_subject_t *s = reg_subject_get(reg, subject);
        if (!s) {
            rc = EDDY_ERR_NOMEM;
            goto out;
        }
        if (null_value) {
            reg_version_remove(s, (int32_t)version);
            goto out;
        }
        if (json_parse(&vd, val, vlen) != EDDY_OK || vd.nodes[0].type != JSON_OBJECT) {
            rc = eddy_err(errstr, errlen, EDDY_ERR_CORRUPT, "_schemas: a SCHEMA value is not a JSON object");
            goto out;
        }
        int64_t vi = json_object_get(&vd, 0, "id", 2), vs = json_object_get(&vd, 0, "schema", 6);
        int64_t vdel = json_object_get(&vd, 0, "deleted", 7), id;
        if (vi < 0 || json_number_i64(&vd.nodes[vi], &id) != EDDY_OK || id < 1 || id > INT32_MAX || vs < 0 ||
            vd.nodes[vs].type != JSON_STRING) {
            rc = eddy_err(errstr, errlen, EDDY_ERR_CORRUPT, "_schemas: a SCHEMA value lacks id or schema");
            goto out;
        }
        if (!api_reg_schema_by_id(reg, (uint32_t)id)) {
            char *text = eddy_malloc(vd.nodes[vs].len + 1);
            long n = text ? json_string_unescape(&vd.nodes[vs], text) : -1;
            api_avro_schema_t *sc = NULL;
            char perr[256];
            if (n < 0 || api_avro_schema_parse(text, (size_t)n, &sc, perr, sizeof perr) != EDDY_OK) {
                eddy_free(text);
                rc = eddy_err(errstr, errlen, EDDY_ERR_CORRUPT, "_schemas: schema %lld does not parse", (long long)id);
                goto out;
            }
            eddy_free(text);
            if (!reg_schema_add(reg, (uint32_t)id, sc)) {
                rc = EDDY_ERR_NOMEM;
                goto out;
            }
        }
        bool deleted = vdel >= 0 && vd.nodes[vdel].type == JSON_TRUE;
        rc = reg_version_put(s, (int32_t)version, (uint32_t)id, deleted);
    } else if (json_string_eq(&kd.nodes[kt], "CONFIG", 6)) {
        int level = -1;
        if (!null_value) {
            int64_t cl;
            if (json_parse(&vd, val, vlen) != EDDY_OK || (cl = json_object_get(&vd, 0, "compatibilityLevel", 18)) < 0 ||
                vd.nodes[cl].type != JSON_STRING || (level = api_compat_parse(vd.nodes[cl].text, vd.nodes[cl].len)) < 0) {
                rc = eddy_err(errstr, errlen, EDDY_ERR_CORRUPT, "_schemas: a CONFIG value has no valid compatibilityLevel");
                goto out;
            }
        }
        if (!*subject) {
            reg->global_level = level >= 0 ? level : API_COMPAT_BACKWARD;
        } else {
            api_reg_subject_t *s = reg_subject_get(reg, subject);
            if (!s) rc = EDDY_ERR_NOMEM;
            else s->level = level;
        }
    }
out:
    json_doc_free(&kd);
    json_doc_free(&vd);
    return rc;
}

/* ---- lifecycle --------------------------------------------------------------------------------- */

api_registry_t *api_registry_new(const api_registry_store_t *store) {
    api_registry_t *reg = eddy_calloc(1, sizeof *reg);
    if (!reg) return NULL;
    pthread_mutex_init(&reg->mu, NULL);
    reg->global_level = API_COMPAT_BACKWARD;
    if (store) reg->store = *store;
    return reg;
}

static void reg_op_free(reg_op_t *op) {
    if (!op) return;
    eddy_free(op->subject);
    eddy_free(op->schema_text);
    eddy_free(op->version);
    wr_free(&op->keys);
    wr_free(&op->values);
    wr_free(&op->body);
    eddy_free(op->recs);
    eddy_free(op);
}

void api_registry_free(api_registry_t *reg) {
    if (!reg) return;
    for (reg_op_t *op = reg->queue_head, *next; op; op = next) {
        next = op->next;
        reg_op_free(op);
    }
    for (uint32_t i = 0; i < reg->nschemas; i++) api_avro_schema_free(reg->schemas[i].schema);
    for (uint32_t i = 0; i < reg->nsubjects; i++) {
        eddy_free(reg->subjects[i].name);
        eddy_free(reg->subjects[i].versions);
    }
    eddy_free(reg->schemas);
    eddy_free(reg->subjects);
    pthread_mutex_destroy(&reg->mu);
    eddy_free(reg);
}

void api_registry_drain(api_registry_t *reg, int64_t timeout_ms) {
    int64_t deadline = time_mono_ms() + timeout_ms;
    for (;;) {
        pthread_mutex_lock(&reg->mu);
        bool idle = !reg->busy && !reg->queue_head;
        pthread_mutex_unlock(&reg->mu);
        if (idle || time_mono_ms() >= deadline) return;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
}

const api_avro_schema_t *api_registry_schema(api_registry_t *reg, uint32_t id) {
    pthread_mutex_lock(&reg->mu);
    api_reg_schema_t *s = api_reg_schema_by_id(reg, id);
    pthread_mutex_unlock(&reg->mu);
    return s ? s->schema : NULL;
}

/* ---- planning mutations -------------------------------------------------------------------------- */

/* Checks candidate against the subject's live versions under its level. Returns true, or false
 * with Confluent's 409 body in op->body. */
bool api_reg_check_compat(api_registry_t *reg, api_reg_subject_t *s, const api_avro_schema_t *cand, int level,
                             wr_t *body, const char *subject) {
    if (!s || level == API_COMPAT_NONE) return true;
    bool transitive = level == API_COMPAT_BACKWARD_TRANSITIVE || level == API_COMPAT_FORWARD_TRANSITIVE ||
                      level == API_COMPAT_FULL_TRANSITIVE;
    bool backward = level != API_COMPAT_FORWARD && level != API_COMPAT_FORWARD_TRANSITIVE;
    bool forward = level != API_COMPAT_BACKWARD && level != API_COMPAT_BACKWARD_TRANSITIVE;
    for (uint32_t i = s->nversions; i > 0; i--) {
        api_reg_version_t *v = &s->versions[i - 1];
        if (v->deleted) continue;
        api_reg_schema_t *old = api_reg_schema_by_id(reg, v->id);
        if (!old) continue;
        char msg[600];
        if (backward && !api_avro_compatible(cand->root, old->schema->root, msg, sizeof msg)) {
            api_registry_error(body, 409,
                               "Schema being registered is incompatible with an earlier schema for subject \"%s\", "
                               "details: [{errorType:'%s', oldSchemaVersion: %d, compatibility: '%s'}] (the new schema "
                               "cannot read data written with version %d)",
                               subject, msg, v->version, reg_level_names[level], v->version);
            return false;
        }
        if (forward && !api_avro_compatible(old->schema->root, cand->root, msg, sizeof msg)) {
            api_registry_error(body, 409,
                               "Schema being registered is incompatible with an earlier schema for subject \"%s\", "
                               "details: [{errorType:'%s', oldSchemaVersion: %d, compatibility: '%s'}] (version %d "
                               "cannot read data written with the new schema)",
                               subject, msg, v->version, reg_level_names[level], v->version);
            return false;
        }
        if (!transitive) break;
    }
    return true;
}

/* Plans op against the current state: either an immediate answer (op->nrec == 0) or records
 * to append first. Called with the mutex held. */
static void reg_plan(api_registry_t *reg, reg_op_t *op) {
    wr_t *body = &op->body;
    api_reg_subject_t *s = op->subject ? api_reg_subject_find(reg, op->subject) : NULL;
    op->status = 200;
    switch (op->kind) {
    case REG_OP_REGISTER: {
        api_avro_schema_t *cand = NULL;
        char err[512];
        if (api_avro_schema_parse(op->schema_text, op->schema_len, &cand, err, sizeof err) != EDDY_OK) {
            op->status = 422;
            api_registry_error(body, 42201, "Invalid schema: %s", err);
            return;
        }
        /* Already a live version of this subject: its id, nothing written. */
        for (uint32_t i = 0; s && i < s->nversions; i++) {
            api_reg_schema_t *sc = api_reg_schema_by_id(reg, s->versions[i].id);
            if (!s->versions[i].deleted && sc && !strcmp(sc->schema->text, cand->text)) {
                op->result_id = sc->id;
                wr_fmt(body, "{\"id\":%u}", sc->id);
                api_avro_schema_free(cand);
                return;
            }
        }
        if (!api_reg_check_compat(reg, s, cand, api_reg_level_of(reg, s), body, op->subject)) {
            op->status = 409;
            api_avro_schema_free(cand);
            return;
        }
        api_reg_schema_t *same = reg_schema_by_text(reg, cand->text);
        uint32_t id = same ? same->id : reg->max_id + 1;
        api_reg_version_t *latest = s ? api_reg_latest(s, true) : NULL;
        int32_t version = latest ? latest->version + 1 : 1;
        /* The record carries the normalized text. */
        eddy_free(op->schema_text);
        op->schema_text = eddy_strdup(cand->text);
        api_avro_schema_free(cand);
        if (!op->schema_text) {
            op->status = 500;
            api_registry_error(body, 50001, "Error while registering schema: out of memory");
            return;
        }
        reg_op_schema_record(reg, op, op->subject, version, id, false, false);
        op->result_id = id;
        wr_fmt(body, "{\"id\":%u}", id);
        return;
    }
    case REG_OP_DELETE_SUBJECT: {
        if (!s || s->nversions == 0) {
            op->status = 404;
            api_registry_error(body, 40401, "Subject '%s' not found.", op->subject);
            return;
        }
        uint32_t live = api_reg_live_count(s);
        if (!op->permanent && live == 0) {
            op->status = 404;
            api_registry_error(body, 40404, "Subject '%s' was soft deleted.Set permanent=true to delete permanently",
                               op->subject);
            return;
        }
        if (op->permanent && live > 0) {
            op->status = 404;
            api_registry_error(body, 40405, "Subject '%s' was not deleted first before being permanently deleted",
                               op->subject);
            return;
        }
        wr_u8(body, '[');
        bool first = true;
        for (uint32_t i = 0; i < s->nversions; i++) {
            api_reg_version_t *v = &s->versions[i];
            if (!op->permanent && v->deleted) continue;
            wr_fmt(body, "%s%d", first ? "" : ",", v->version);
            first = false;
            reg_op_schema_record(reg, op, op->subject, v->version, v->id, true, op->permanent);
        }
        wr_u8(body, ']');
        if (op->permanent && s->level >= 0) reg_op_config_record(op, op->subject, -1);
        return;
    }
    case REG_OP_DELETE_VERSION: {
        if (!s || s->nversions == 0) {
            op->status = 404;
            api_registry_error(body, 40401, "Subject '%s' not found.", op->subject);
            return;
        }
        int32_t version;
        api_reg_version_t *v = NULL;
        if (!strcmp(op->version, "latest") || !strcmp(op->version, "-1")) {
            v = api_reg_latest(s, op->permanent);
            version = v ? v->version : -1;
        } else {
            char *end;
            long x = strtol(op->version, &end, 10);
            if (*end || x < 1 || x > INT32_MAX) {
                op->status = 422;
                api_registry_error(body, 42202,
                                   "The specified version '%s' is not a valid version id. Allowed values are between "
                                   "[1, 2^31-1] and the string \"latest\"",
                                   op->version);
                return;
            }
            version = (int32_t)x;
            v = api_reg_version_find(s, version);
        }
        if (!v) {
            op->status = 404;
            api_registry_error(body, 40402, "Version %s not found.", op->version);
            return;
        }
        if (!op->permanent && v->deleted) {
            op->status = 404;
            api_registry_error(body, 40406, "Subject '%s' Version %d was soft deleted.Set permanent=true to delete permanently",
                               op->subject, version);
            return;
        }
        if (op->permanent && !v->deleted) {
            op->status = 404;
            api_registry_error(body, 40407, "Subject '%s' Version %d was not deleted first before being permanently deleted",
                               op->subject, version);
            return;
        }
        reg_op_schema_record(reg, op, op->subject, version, v->id, true, op->permanent);
        wr_fmt(body, "%d", version);
        return;
    }
    case REG_OP_CONFIG:
        if (op->subject && op->level < 0) { /* DELETE /config/{subject} */
            if (!s || s->level < 0) {
                op->status = 404;
                api_registry_error(body, 40408, "Subject '%s' does not have subject-level compatibility configured",
                                   op->subject);
                return;
            }
            wr_fmt(body, "{\"compatibilityLevel\":\"%s\"}", reg_level_names[s->level]);
        } else {
            wr_fmt(body, "{\"compatibility\":\"%s\"}", reg_level_names[op->level]);
        }
        reg_op_config_record(op, op->subject, op->level);
        return;
    }
}

static void reg_pump(api_registry_t *reg);

/* The append of an op's records is durable (or failed): apply them, answer, go on. */
static void reg_appended(void *arg, int status) {
    reg_op_t *op = arg;
    api_registry_t *reg = op->reg_owner;
    pthread_mutex_lock(&reg->mu);
    if (status == EDDY_OK) {
        size_t ko = 0, vo = 0;
        for (size_t i = 0; i < op->nrec; i++) {
            char err[256];
            if (api_registry_apply_record(reg, op->keys.buf + ko, op->recs[i].klen, op->values.buf + vo,
                                          op->recs[i].vlen, op->recs[i].null, err, sizeof err) != EDDY_OK)
                elog_error("api", "schema registry: %s", err);
            ko += op->recs[i].klen;
            vo += op->recs[i].vlen;
        }
    } else {
        op->status = 500;
        api_registry_error(&op->body, 50001, "Error while storing the schema registry's record: %s", eddy_strerror(status));
        op->result_id = 0;
    }
    reg->busy = false;
    pthread_mutex_unlock(&reg->mu);
    if (op->done.fn) op->done.fn(op->done.arg, op->status, op->result_id, (const char *)op->body.buf, op->body.len);
    reg_send(&op->reply, op->status, &op->body);
    reg_op_free(op);
    reg_pump(reg);
}

static void reg_pump(api_registry_t *reg) {
    pthread_mutex_lock(&reg->mu);
    while (!reg->busy && reg->queue_head) {
        reg_op_t *op = reg->queue_head;
        reg->queue_head = op->next;
        if (!reg->queue_head) reg->queue_tail = NULL;
        reg_plan(reg, op);
        if (op->status == 200 && op->nrec > 0 && wr_ok(&op->keys) && wr_ok(&op->values)) {
            reg->busy = true;
            pthread_mutex_unlock(&reg->mu);
            api_registry_record_t *recs = eddy_calloc(op->nrec, sizeof *recs);
            size_t ko = 0, vo = 0;
            for (size_t i = 0; recs && i < op->nrec; i++) {
                recs[i] = (api_registry_record_t){op->keys.buf + ko, op->recs[i].klen,
                                                  op->recs[i].null ? NULL : op->values.buf + vo, op->recs[i].vlen};
                ko += op->recs[i].klen;
                vo += op->recs[i].vlen;
            }
            int rc = !recs               ? EDDY_ERR_NOMEM
                     : reg->store.append ? reg->store.append(reg->store.ctx, recs, op->nrec, reg_appended, op)
                                         : EDDY_ERR_UNSUPPORTED;
            eddy_free(recs);
            if (rc != EDDY_OK) reg_appended(op, rc); /* not called by the store: answer here */
            return;                                 /* reg_appended pumps the rest */
        }
        if (op->status == 200 && op->nrec > 0) { /* record building ran out of memory */
            op->status = 500;
            api_registry_error(&op->body, 50001, "Error while building the schema registry's record");
        }
        pthread_mutex_unlock(&reg->mu);
        if (op->done.fn) op->done.fn(op->done.arg, op->status, op->result_id, (const char *)op->body.buf, op->body.len);
        reg_send(&op->reply, op->status, &op->body);
        reg_op_free(op);
        pthread_mutex_lock(&reg->mu);
    }
    pthread_mutex_unlock(&reg->mu);
}

static reg_op_t *reg_op_new(api_registry_t *reg, reg_op_kind_t kind, const char *subject, const api_responder_t *reply) {
    reg_op_t *op = eddy_calloc(1, sizeof *op);
    if (!op) return NULL;
    op->kind = kind;
    op->reg_owner = reg;
    op->level = -1;
    if (reply) op->reply = *reply;
    wr_init(&op->keys, 0);
    wr_init(&op->values, 0);
    wr_init(&op->body, 64);
    if (subject && !(op->subject = eddy_strdup(subject))) {
        reg_op_free(op);
        return NULL;
    }
    return op;
}

static void reg_submit(api_registry_t *reg, reg_op_t *op) {
    pthread_mutex_lock(&reg->mu);
    if (reg->queue_tail) reg->queue_tail->next = op;
    else reg->queue_head = op;
    reg->queue_tail = op;
    pthread_mutex_unlock(&reg->mu);
    reg_pump(reg);
}

static void reg_nomem(const api_responder_t *reply) {
    wr_t body;
    wr_init(&body, 64);
    api_registry_error(&body, 50001, "Error in the backend data store: out of memory");
    reg_send(reply, 500, &body);
    wr_free(&body);
}

void api_registry_register(api_registry_t *reg, const char *subject, const char *schema, size_t len,
                           const api_registry_done_t *done, const api_responder_t *reply) {
    reg_op_t *op = reg_op_new(reg, REG_OP_REGISTER, subject, reply);
    if (op && !(op->schema_text = eddy_strndup(schema, len))) {
        reg_op_free(op);
        op = NULL;
    }
    if (!op) {
        if (done && done->fn) done->fn(done->arg, 500, 0, NULL, 0);
        if (reply) reg_nomem(reply);
        return;
    }
    op->schema_len = len;
    if (done) op->done = *done;
    reg_submit(reg, op);
}

void api_registry_delete_subject(api_registry_t *reg, const char *subject, bool permanent, const api_responder_t *reply) {
    reg_op_t *op = reg_op_new(reg, REG_OP_DELETE_SUBJECT, subject, reply);
    if (!op) return reg_nomem(reply);
    op->permanent = permanent;
    reg_submit(reg, op);
}

void api_registry_delete_version(api_registry_t *reg, const char *subject, const char *version, bool permanent,
                                 const api_responder_t *reply) {
    reg_op_t *op = reg_op_new(reg, REG_OP_DELETE_VERSION, subject, reply);
    if (op && !(op->version = eddy_strdup(version))) {
        reg_op_free(op);
        op = NULL;
    }
    if (!op) return reg_nomem(reply);
    op->permanent = permanent;
    reg_submit(reg, op);
}

void api_registry_set_config(api_registry_t *reg, const char *subject, int level, const api_responder_t *reply) {
    reg_op_t *op = reg_op_new(reg, REG_OP_CONFIG, subject, reply);
    if (!op) return reg_nomem(reply);
    op->level = level;
    reg_submit(reg, op);
}

/* ---- reads: Confluent's bodies and error codes; each returns the HTTP status ------------------ */

