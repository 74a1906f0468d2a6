/* The batch transaction's records: a record's value decoded into the base row (JSON), keyed
 * projections, changelog keys and the retraction of a key's previous value, and the read-ahead
 * of a group of records' state. Rows then go through txn.c. */
#include <stdio.h>
#include <string.h>

#include "engine/engine_txn.h"

static void bad_record(engine_txn_t *t, const char *why) {
    t->counters.bad_records++;
    elog_warn("engine", "%s: record at partition %d offset %lld skipped: %s", t->q->id, (int)t->cur_partition,
              (long long)t->cur_offset, why);
}

/* Fills the base slots from a record. Returns EDDY_OK, EDDY_ERR_INVALID (record skipped, with
 * the reason logged) or EDDY_ERR_NOMEM. */
static int fill_base(engine_txn_t *t, const engine_record_t *rec) {
    const engine_query_t *q = t->q;
    const engine_stream_t *s = q->stream;
    bool parsed = false;
    char err[200];
    for (uint32_t i = 0; i < q->nbase; i++) {
        const engine_input_t *in = &q->inputs[i];
        engine_val_t *v = &t->slots[i];
        switch (in->kind) {
        case IN_KEY:
            *v = rec->key_null ? engine_null() : engine_text((const char *)rec->key.ptr, rec->key.len);
            if (v->kind != ENGINE_NULL && in->type.kind != ENGINE_TEXT && in->type.kind != ENGINE_ANY &&
                engine_val_cast(&t->arena, v, in->type, v) != EDDY_OK) {
                bad_record(t, "the key does not convert to the key column's type");
                return EDDY_ERR_INVALID;
            }
            break;
        case IN_TOPIC: *v = engine_text((const char *)rec->topic.ptr, rec->topic.len); break;
        case IN_PARTITION: *v = engine_int(rec->partition); break;
        case IN_OFFSET: *v = engine_int(rec->offset); break;
        case IN_TIMESTAMP: *v = engine_ts(rec->timestamp); break;
        case IN_HEADERS: {
            engine_val_t *items = arena_alloc(&t->arena, (2 * rec->nheaders + 1) * sizeof *items);
            if (!items) return EDDY_ERR_NOMEM;
            for (uint32_t h = 0; h < 2 * rec->nheaders; h++)
                items[h] = engine_text((const char *)rec->headers[h].ptr, rec->headers[h].len);
            if (engine_val_make_coll(&t->arena, ENGINE_MAP, items, rec->nheaders, v)) return EDDY_ERR_NOMEM;
            break;
        }
        case IN_VALUE:
        case IN_FIELD:
            if (rec->value_null) {
                *v = engine_null();
                break;
            }
            if (s->format == ENGINE_FORMAT_TEXT) {
                *v = in->kind == IN_VALUE ? engine_text((const char *)rec->value.ptr, rec->value.len) : engine_null();
                break;
            }
            if (!parsed) {
                int rc = json_parse(&t->doc, (const char *)rec->value.ptr, rec->value.len);
                if (rc == EDDY_ERR_NOMEM) return rc;
                if (rc) {
                    snprintf(err, sizeof err, "the value is not JSON (%s at byte %zu)", t->doc.errmsg, t->doc.errpos);
                    bad_record(t, err);
                    return EDDY_ERR_INVALID;
                }
                parsed = true;
            }
            if (in->kind == IN_VALUE) {
                if (engine_val_from_json(&t->arena, &t->doc, 0, v)) return EDDY_ERR_NOMEM;
                break;
            }
            int64_t node = json_object_get(&t->doc, 0, in->field, strlen(in->field));
            if (node < 0) {
                *v = engine_null();
                break;
            }
            int rc = engine_val_from_json_typed(&t->arena, &t->doc, (uint32_t)node, in->type, v, err, sizeof err);
            if (rc == EDDY_ERR_NOMEM) return rc;
            if (rc) {
                char why[300];
                snprintf(why, sizeof why, "field %s: %s", in->field, err);
                bad_record(t, why);
                return EDDY_ERR_INVALID;
            }
            break;
        default: *v = engine_null(); break;
        }
    }
    return EDDY_OK;
}

static void encode_base(engine_txn_t *t, wr_t *w) {
    for (uint32_t i = 0; i < t->q->nbase; i++) engine_val_encode(w, &t->slots[i]);
}

static int decode_base(engine_txn_t *t, const uint8_t *p, size_t n) {
    rd_t r = rd_init(p, n);
    for (uint32_t i = 0; i < t->q->nbase; i++) {
        int rc = engine_val_decode(&r, &t->arena, &t->slots[i]);
        if (rc == EDDY_ERR_NOMEM) return rc;
        if (rc) return EDDY_ERR_CORRUPT;
    }
    return rd_remaining(&r) ? EDDY_ERR_CORRUPT : EDDY_OK;
}

/* A keyed projection: the new value's row overwrites the key's row; a tombstone, or a value
 * that WHERE drops, deletes it. The row's key comes from the record key alone. */
static int keyed_record(engine_txn_t *t, const engine_record_t *rec) {
    const engine_query_t *q = t->q;
    int rc = fill_base(t, rec);
    if (rc == EDDY_ERR_INVALID) return EDDY_OK;
    if (rc) return rc;
    uint64_t skipped = t->counters.rows_skipped;
    if (!rec->value_null) {
        engine_row_t row = {t->slots, &t->arena, t->now_ms};
        bool keep = true;
        if (q->where && (rc = engine_expr_test(q->where, &row, &keep))) return rc;
        if (keep) {
            engine_val_t **cols;
            if ((rc = engine_txn_project(t, &row, &cols))) return rc;
            if (cols) return engine_txn_emit_cols(t, cols, +1);
            if (t->counters.rows_skipped != skipped) return EDDY_OK;
        }
    }
    /* Delete: only the key column is needed. */
    const engine_table_t *tb = q->sink;
    engine_val_t **cols = arena_alloc(&t->arena, tb->ncols * sizeof *cols);
    engine_val_t *k = arena_alloc(&t->arena, sizeof *k);
    if (!cols || !k) return EDDY_ERR_NOMEM;
    memset(cols, 0, tb->ncols * sizeof *cols);
    for (uint32_t i = 0; i < q->nout; i++)
        if (q->sink_cols[i] == tb->pk[0]) {
            if ((rc = engine_val_copy(&t->arena, &t->slots[q->out[i]->slot], k))) return rc;
            if (k->kind != tb->cols[tb->pk[0]].type.kind && tb->cols[tb->pk[0]].type.kind != ENGINE_ANY &&
                engine_val_cast(&t->arena, k, tb->cols[tb->pk[0]].type, k) != EDDY_OK)
                return EDDY_OK;
        }
    cols[tb->pk[0]] = k;
    return engine_txn_emit_cols(t, cols, -1);
}

/* A JSON stream's key sent as JSON text (the REST proxy's json format sends "\"abc\"", with the
 * quotes, as Confluent's does) means the string: rowkey, the KEY column and the changelog's
 * identity of the key are abc, the same as a key sent as plain bytes (kcat). Any other key is
 * taken as it is. Returns 1 with *out (the record with its key decoded), 0 to keep rec, or
 * EDDY_ERR_NOMEM. */
static int json_key(engine_txn_t *t, const engine_record_t *rec, engine_record_t *out) {
    const eddy_view_t k = rec->key;
    if (rec->key_null || t->q->stream->format != ENGINE_FORMAT_JSON || k.len < 2 || k.ptr[0] != '"' || k.ptr[k.len - 1] != '"')
        return 0;
    int rc = json_parse(&t->kdoc, (const char *)k.ptr, k.len);
    if (rc == EDDY_ERR_NOMEM) return rc;
    if (rc || json_node(&t->kdoc, 0)->type != JSON_STRING) return 0;
    const json_node_t *n = json_node(&t->kdoc, 0);
    char *d = arena_alloc(&t->arena, n->len + 1);
    if (!d) return EDDY_ERR_NOMEM;
    long dl = json_string_unescape(n, d);
    if (dl < 0) return 0;
    *out = *rec;
    out->key = eddy_view(d, (size_t)dl);
    return 1;
}

/* The state key of a changelog record (its key, JSON-decoded as engine_txn_record does) into w. */
static int changelog_key(engine_txn_t *t, const engine_record_t *rec, wr_t *w) {
    engine_record_t decoded;
    int krc = json_key(t, rec, &decoded);
    if (krc < 0) return krc;
    if (krc) rec = &decoded;
    engine_kv_prefix(w, t->q->id, KV_INPUT);
    wr_bytes(w, rec->key.ptr, rec->key.len);
    return wr_ok(w) ? EDDY_OK : EDDY_ERR_NOMEM;
}

int engine_txn_prefetch(engine_txn_t *t, const engine_record_t *recs, uint32_t n) {
    const engine_query_t *q = t->q;
    if (!q->retracting || q->keyed || !t->sink.ops->kv_get_many || n < 2) return EDDY_OK;
    size_t *ends = arena_alloc(&t->arena, n * sizeof *ends);
    eddy_view_t *keys = arena_alloc(&t->arena, n * sizeof *keys);
    size_t *offs = arena_alloc(&t->arena, n * sizeof *offs), *lens = arena_alloc(&t->arena, n * sizeof *lens);
    bool *found = arena_alloc(&t->arena, n * sizeof *found);
    if (!ends || !keys || !offs || !lens || !found) return EDDY_ERR_NOMEM;
    /* The keys the overlay does not hold (the buffer may move while it grows: views after). */
    wr_t *kb = &t->pfkeys;
    wr_reset(kb);
    uint32_t m = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (recs[i].key_null) continue;
        size_t start = kb->len;
        int rc = changelog_key(t, &recs[i], kb);
        if (rc) return rc;
        if (engine_map_get(&t->state, kb->buf + start, kb->len - start)) {
            kb->len = start;
            continue;
        }
        ends[m++] = kb->len;
    }
    for (uint32_t i = 0; i < m; i++) {
        size_t start = i ? ends[i - 1] : 0;
        keys[i] = eddy_view(kb->buf + start, ends[i] - start);
    }
    if (m < 2) return EDDY_OK; /* one key: engine_txn_record reads it as well */
    wr_reset(&t->scratch);
    int rc = t->sink.ops->kv_get_many(t->sink.ctx, keys, m, &t->scratch, offs, lens, found);
    for (uint32_t i = 0; i < m && !rc; i++) {
        bool created;
        engine_map_entry_t *e = engine_map_upsert(&t->state, keys[i].ptr, keys[i].len, &created);
        if (!e) return EDDY_ERR_NOMEM;
        engine_state_entry_t *s;
        if (created) rc = engine_txn_state_fill(t, e, found[i], found[i] ? t->scratch.buf + offs[i] : NULL, found[i] ? lens[i] : 0, &s);
    }
    return rc;
}

int engine_txn_record(engine_txn_t *t, const engine_record_t *rec) {
    const engine_query_t *q = t->q;
    engine_record_t decoded;
    int krc = json_key(t, rec, &decoded);
    if (krc < 0) return krc;
    if (krc) rec = &decoded;
    t->cur_partition = rec->partition;
    t->cur_offset = rec->offset;
    t->counters.input_rows++;
    if (!q->retracting) {
        if (rec->value_null) return EDDY_OK; /* a tombstone means nothing to an append stream */
        int rc = fill_base(t, rec);
        if (rc == EDDY_ERR_INVALID) return EDDY_OK;
        return rc ? rc : engine_txn_run_base(t, +1);
    }
    if (rec->key_null) {
        bad_record(t, "a changelog record needs a key");
        return EDDY_OK;
    }
    if (q->keyed) return keyed_record(t, rec);
    /* The new base row, encoded, is the key's state from now on. */
    wr_t nb;
    wr_init(&nb, 256);
    int rc = EDDY_OK;
    if (!rec->value_null) {
        rc = fill_base(t, rec);
        if (rc == EDDY_ERR_INVALID) {
            wr_free(&nb);
            return EDDY_OK; /* the key keeps its previous value */
        }
        if (!rc) encode_base(t, &nb);
        if (!rc && !wr_ok(&nb)) rc = EDDY_ERR_NOMEM;
    }
    wr_reset(&t->keybuf);
    engine_kv_prefix(&t->keybuf, q->id, KV_INPUT);
    wr_bytes(&t->keybuf, rec->key.ptr, rec->key.len);
    engine_state_entry_t *s = NULL;
    if (!rc) rc = engine_txn_state_get(t, t->keybuf.buf, t->keybuf.len, &s);
    if (rc) goto done;
    if (s->present && !rec->value_null && s->len == nb.len && memcmp(s->val, nb.buf, nb.len) == 0)
        goto done; /* same columns as before: nothing derived changes */
    if (s->present) {
        /* Retract what the old value produced: replay its base row with weight -1. The new
         * row's slots are kept aside (they may point into the record) and restored after. */
        engine_val_t *saved = arena_alloc(&t->arena, (q->nbase ? q->nbase : 1) * sizeof *saved);
        if (!saved) { rc = EDDY_ERR_NOMEM; goto done; }
        memcpy(saved, t->slots, q->nbase * sizeof *saved);
        rc = decode_base(t, s->val, s->len);
        if (rc == EDDY_ERR_CORRUPT) {
            elog_error("engine", "%s: corrupt state for a key at partition %d offset %lld; its old rows stay",
                       q->id, (int)rec->partition, (long long)rec->offset);
            rc = EDDY_OK;
        } else if (!rc) {
            rc = engine_txn_run_base(t, -1);
        }
        memcpy(t->slots, saved, q->nbase * sizeof *saved);
        if (rc) goto done;
    }
    if (rec->value_null) {
        if (s->present) rc = engine_txn_state_put(t, s, NULL, 0);
    } else {
        if (!(rc = engine_txn_state_put(t, s, nb.buf ? nb.buf : (const uint8_t *)"", nb.len))) rc = engine_txn_run_base(t, +1);
    }
done:
    wr_free(&nb);
    return rc;
}

int engine_txn_row(engine_txn_t *t, const engine_val_t *cols) {
    const engine_query_t *q = t->q;
    t->counters.input_rows++;
    for (uint32_t i = 0; i < q->nbase; i++) t->slots[i] = cols[q->inputs[i].col];
    return engine_txn_run_base(t, +1);
}
