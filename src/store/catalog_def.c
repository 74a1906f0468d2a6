/* Catalog definitions: the mutable keyspace, table and type definitions that DDL edits, their
 * JSON form (what the schema column family stores, readable with `eddy dump`), table options
 * with Cassandra's defaults and checks, and the building of immutable tables from them. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>

#include "store/store_int.h"

/* ---- uuids ---- */

void store_uuid_random(uint8_t out[16]) {
    if (getrandom(out, 16, 0) != 16) {
        uint64_t a = (uint64_t)time_now_us(), b = hash64(&a, sizeof a) ^ (uint64_t)time_mono_ns();
        store_u64(out, hash64(&b, sizeof b));
        store_u64(out + 8, a ^ b);
    }
    out[6] = (uint8_t)((out[6] & 0x0F) | 0x40);
    out[8] = (uint8_t)((out[8] & 0x3F) | 0x80);
}

void store_uuid_time(uint8_t out[16]) {
    uint8_t rnd[16];
    store_uuid_random(rnd);
    uint64_t ts = (uint64_t)time_now_us() * 10 + 0x01B21DD213814000ULL;
    uint64_t msb = (ts << 32) | ((ts >> 16) & 0xFFFF0000ULL) | 0x1000 | ((ts >> 48) & 0x0FFF);
    store_u64(out, msb);
    memcpy(out + 8, rnd + 8, 8);
    out[8] = (uint8_t)((out[8] & 0x3F) | 0x80);
}

/* ---- string maps ---- */

void store_smap_free(store_smap_t *m) {
    for (size_t i = 0; i < m->n; i++) {
        eddy_free(m->k[i]);
        eddy_free(m->v[i]);
    }
    eddy_free(m->k);
    eddy_free(m->v);
    memset(m, 0, sizeof *m);
}

const char *store_smap_get(const store_smap_t *m, const char *k) {
    for (size_t i = 0; i < m->n; i++)
        if (!strcmp(m->k[i], k)) return m->v[i];
    return NULL;
}

int store_smap_set(store_smap_t *m, const char *k, const char *v) {
    for (size_t i = 0; i < m->n; i++)
        if (!strcmp(m->k[i], k)) {
            char *nv = eddy_strdup(v);
            if (!nv) return EDDY_ERR_NOMEM;
            eddy_free(m->v[i]);
            m->v[i] = nv;
            return EDDY_OK;
        }
    char **nk = eddy_realloc(m->k, (m->n + 1) * sizeof *nk);
    if (!nk) return EDDY_ERR_NOMEM;
    m->k = nk;
    char **nv = eddy_realloc(m->v, (m->n + 1) * sizeof *nv);
    if (!nv) return EDDY_ERR_NOMEM;
    m->v = nv;
    m->k[m->n] = eddy_strdup(k);
    m->v[m->n] = eddy_strdup(v);
    if (!m->k[m->n] || !m->v[m->n]) {
        eddy_free(m->k[m->n]);
        eddy_free(m->v[m->n]);
        return EDDY_ERR_NOMEM;
    }
    /* keep keys sorted, as Cassandra's maps come back */
    size_t i = m->n++;
    while (i > 0 && strcmp(m->k[i - 1], m->k[i]) > 0) {
        char *t = m->k[i];
        m->k[i] = m->k[i - 1];
        m->k[i - 1] = t;
        t = m->v[i];
        m->v[i] = m->v[i - 1];
        m->v[i - 1] = t;
        i--;
    }
    return EDDY_OK;
}

/* ---- JSON helpers ---- */

static char *jstr(const json_doc_t *d, uint32_t obj, const char *key) {
    int64_t i = json_object_get(d, obj, key, strlen(key));
    if (i < 0 || json_node(d, (uint32_t)i)->type != JSON_STRING) return NULL;
    const json_node_t *n = json_node(d, (uint32_t)i);
    char *s = eddy_malloc(n->len + 1);
    if (!s) return NULL;
    long l = json_string_unescape(n, s);
    if (l < 0) {
        eddy_free(s);
        return NULL;
    }
    s[l] = 0;
    return s;
}

static int64_t jint(const json_doc_t *d, uint32_t obj, const char *key, int64_t dflt) {
    int64_t i = json_object_get(d, obj, key, strlen(key)), v;
    if (i < 0 || json_number_i64(json_node(d, (uint32_t)i), &v)) return dflt;
    return v;
}

static double jdbl(const json_doc_t *d, uint32_t obj, const char *key, double dflt) {
    int64_t i = json_object_get(d, obj, key, strlen(key));
    double v;
    if (i < 0 || json_number_f64(json_node(d, (uint32_t)i), &v)) return dflt;
    return v;
}

static bool jbool(const json_doc_t *d, uint32_t obj, const char *key, bool dflt) {
    int64_t i = json_object_get(d, obj, key, strlen(key));
    if (i < 0) return dflt;
    uint8_t t = json_node(d, (uint32_t)i)->type;
    return t == JSON_TRUE ? true : t == JSON_FALSE ? false : dflt;
}

static int jmap(const json_doc_t *d, uint32_t obj, const char *key, store_smap_t *m) {
    int64_t i = json_object_get(d, obj, key, strlen(key));
    if (i < 0 || json_node(d, (uint32_t)i)->type != JSON_OBJECT) return EDDY_OK;
    store_smap_free(m);
    uint32_t c = json_first_child((uint32_t)i);
    for (uint32_t k = 0; k < json_node(d, (uint32_t)i)->count; k++) {
        const json_node_t *kn = json_node(d, c), *vn = json_node(d, c + 1);
        char kb[512], vb[2048];
        if (kn->len >= sizeof kb || vn->type != JSON_STRING || vn->len >= sizeof vb) return EDDY_ERR_CORRUPT;
        long kl = json_string_unescape(kn, kb), vl = json_string_unescape(vn, vb);
        if (kl < 0 || vl < 0) return EDDY_ERR_CORRUPT;
        kb[kl] = 0;
        vb[vl] = 0;
        if (store_smap_set(m, kb, vb)) return EDDY_ERR_NOMEM;
        c = json_next(d, c + 1);
    }
    return EDDY_OK;
}

static void wmap(wr_t *w, const char *key, const store_smap_t *m) {
    wr_fmt(w, ",\"%s\":{", key);
    for (size_t i = 0; i < m->n; i++) {
        if (i) wr_u8(w, ',');
        json_write_string(w, m->k[i], strlen(m->k[i]));
        wr_u8(w, ':');
        json_write_string(w, m->v[i], strlen(m->v[i]));
    }
    wr_u8(w, '}');
}

static void wstr(wr_t *w, const char *key, const char *v, bool comma) {
    if (comma) wr_u8(w, ',');
    json_write_string(w, key, strlen(key));
    wr_u8(w, ':');
    json_write_string(w, v ? v : "", v ? strlen(v) : 0);
}

static void wuuid(wr_t *w, const char *key, const uint8_t u[16]) {
    wr_fmt(w, ",\"%s\":\"", key);
    store_fmt_uuid(u, w);
    wr_u8(w, '"');
}

static void ruuid(const json_doc_t *d, uint32_t obj, const char *key, uint8_t out[16]) {
    char *s = jstr(d, obj, key);
    if (!s || store_parse_uuid(s, strlen(s), out)) memset(out, 0, 16);
    eddy_free(s);
}

static const char *const kind_names[] = {"partition_key", "clustering", "static", "regular"};

const char *store_col_kind_name(store_col_kind_t kind) { return kind <= 3 ? kind_names[kind] : "regular"; }

static uint8_t kind_parse(const char *s) {
    for (uint8_t i = 0; i < 4; i++)
        if (s && !strcmp(s, kind_names[i])) return i;
    return STORE_COL_REGULAR;
}

/* ---- tables ---- */

void store_tdef_defaults(store_tdef_t *d) {
    memset(d, 0, sizeof *d);
    d->comment = eddy_strdup("");
    d->default_ttl = 0;
    d->gc_grace = 864000;
    d->bloom = 0.01;
    d->crc = 1.0;
    d->memtable_flush = 0;
    d->min_idx = 128;
    d->max_idx = 2048;
    d->speculative_retry = eddy_strdup("99p");
    d->additional_write_policy = eddy_strdup("99p");
    d->read_repair = eddy_strdup("BLOCKING");
    store_smap_set(&d->caching, "keys", "ALL");
    store_smap_set(&d->caching, "rows_per_partition", "NONE");
    store_smap_set(&d->compaction, "class", "org.apache.cassandra.db.compaction.SizeTieredCompactionStrategy");
    store_smap_set(&d->compaction, "max_threshold", "32");
    store_smap_set(&d->compaction, "min_threshold", "4");
    store_smap_set(&d->compression, "chunk_length_in_kb", "16");
    store_smap_set(&d->compression, "class", "org.apache.cassandra.io.compress.LZ4Compressor");
}

void store_tdef_free(store_tdef_t *d) {
    for (size_t i = 0; i < d->ncols; i++) {
        eddy_free(d->cols[i].name);
        eddy_free(d->cols[i].type);
    }
    eddy_free(d->cols);
    for (size_t i = 0; i < d->ndropped; i++) {
        eddy_free(d->dropped[i].name);
        eddy_free(d->dropped[i].type);
    }
    eddy_free(d->dropped);
    eddy_free(d->keyspace);
    eddy_free(d->name);
    eddy_free(d->comment);
    eddy_free(d->speculative_retry);
    eddy_free(d->additional_write_policy);
    eddy_free(d->read_repair);
    store_smap_free(&d->caching);
    store_smap_free(&d->compaction);
    store_smap_free(&d->compression);
    memset(d, 0, sizeof *d);
}

int store_tdef_parse(const char *json, store_tdef_t *d) {
    store_tdef_defaults(d);
    json_doc_t doc;
    json_doc_init(&doc);
    int rc = json_parse(&doc, json, strlen(json));
    if (rc || json_node(&doc, 0)->type != JSON_OBJECT) {
        rc = EDDY_ERR_CORRUPT;
        goto out;
    }
    d->keyspace = jstr(&doc, 0, "keyspace");
    d->name = jstr(&doc, 0, "name");
    ruuid(&doc, 0, "uuid", d->uuid);
    d->id = (uint32_t)jint(&doc, 0, "id", 0);
    d->version = (uint32_t)jint(&doc, 0, "version", 1);
    d->next_col_id = (uint32_t)jint(&doc, 0, "next_column_id", 0);
    int64_t cols = json_object_get(&doc, 0, "columns", 7);
    if (!d->keyspace || !d->name || cols < 0 || json_node(&doc, (uint32_t)cols)->type != JSON_ARRAY) {
        rc = EDDY_ERR_CORRUPT;
        goto out;
    }
    size_t n = json_node(&doc, (uint32_t)cols)->count;
    d->cols = eddy_calloc(n ? n : 1, sizeof *d->cols);
    if (!d->cols) {
        rc = EDDY_ERR_NOMEM;
        goto out;
    }
    uint32_t c = json_first_child((uint32_t)cols);
    for (size_t i = 0; i < n; i++, c = json_next(&doc, c)) {
        store_cdef_t *cd = &d->cols[d->ncols++];
        cd->name = jstr(&doc, c, "name");
        cd->type = jstr(&doc, c, "type");
        char *k = jstr(&doc, c, "kind");
        cd->kind = kind_parse(k);
        eddy_free(k);
        char *o = jstr(&doc, c, "order");
        cd->desc = o && !strcmp(o, "desc");
        eddy_free(o);
        cd->position = (int16_t)jint(&doc, c, "position", -1);
        cd->id = (uint32_t)jint(&doc, c, "id", 0);
        if (!cd->name || !cd->type) {
            rc = EDDY_ERR_CORRUPT;
            goto out;
        }
    }
    int64_t dr = json_object_get(&doc, 0, "dropped", 7);
    if (dr >= 0 && json_node(&doc, (uint32_t)dr)->type == JSON_ARRAY) {
        n = json_node(&doc, (uint32_t)dr)->count;
        d->dropped = eddy_calloc(n ? n : 1, sizeof *d->dropped);
        if (!d->dropped) {
            rc = EDDY_ERR_NOMEM;
            goto out;
        }
        c = json_first_child((uint32_t)dr);
        for (size_t i = 0; i < n; i++, c = json_next(&doc, c)) {
            store_ddef_t *dd = &d->dropped[d->ndropped++];
            dd->name = jstr(&doc, c, "name");
            dd->type = jstr(&doc, c, "type");
            char *k = jstr(&doc, c, "kind");
            dd->kind = kind_parse(k);
            eddy_free(k);
            dd->time_us = jint(&doc, c, "time", 0);
            if (!dd->name || !dd->type) {
                rc = EDDY_ERR_CORRUPT;
                goto out;
            }
        }
    }
    int64_t op = json_object_get(&doc, 0, "options", 7);
    if (op >= 0 && json_node(&doc, (uint32_t)op)->type == JSON_OBJECT) {
        uint32_t o = (uint32_t)op;
        char *s;
        if ((s = jstr(&doc, o, "comment"))) eddy_free(d->comment), d->comment = s;
        if ((s = jstr(&doc, o, "speculative_retry"))) eddy_free(d->speculative_retry), d->speculative_retry = s;
        if ((s = jstr(&doc, o, "additional_write_policy")))
            eddy_free(d->additional_write_policy), d->additional_write_policy = s;
        if ((s = jstr(&doc, o, "read_repair"))) eddy_free(d->read_repair), d->read_repair = s;
        d->default_ttl = (int32_t)jint(&doc, o, "default_time_to_live", d->default_ttl);
        d->gc_grace = (int32_t)jint(&doc, o, "gc_grace_seconds", d->gc_grace);
        d->memtable_flush = (int32_t)jint(&doc, o, "memtable_flush_period_in_ms", d->memtable_flush);
        d->min_idx = (int32_t)jint(&doc, o, "min_index_interval", d->min_idx);
        d->max_idx = (int32_t)jint(&doc, o, "max_index_interval", d->max_idx);
        d->bloom = jdbl(&doc, o, "bloom_filter_fp_chance", d->bloom);
        d->crc = jdbl(&doc, o, "crc_check_chance", d->crc);
        d->cdc = jbool(&doc, o, "cdc", d->cdc);
        if (jmap(&doc, o, "caching", &d->caching) || jmap(&doc, o, "compaction", &d->compaction) ||
            jmap(&doc, o, "compression", &d->compression))
            rc = EDDY_ERR_CORRUPT;
    }
out:
    json_doc_free(&doc);
    if (rc) store_tdef_free(d);
    return rc;
}

void store_tdef_write(const store_tdef_t *d, wr_t *w) {
    wr_u8(w, '{');
    wstr(w, "keyspace", d->keyspace, false);
    wstr(w, "name", d->name, true);
    wuuid(w, "uuid", d->uuid);
    wr_fmt(w, ",\"id\":%u,\"version\":%u,\"next_column_id\":%u,\"columns\":[", d->id, d->version, d->next_col_id);
    for (size_t i = 0; i < d->ncols; i++) {
        const store_cdef_t *c = &d->cols[i];
        wr_str(w, i ? ",{" : "{");
        wstr(w, "name", c->name, false);
        wstr(w, "type", c->type, true);
        wstr(w, "kind", kind_names[c->kind], true);
        wstr(w, "order", c->kind == STORE_COL_CLUSTERING ? (c->desc ? "desc" : "asc") : "none", true);
        wr_fmt(w, ",\"position\":%d,\"id\":%u}", c->position, c->id);
    }
    wr_str(w, "],\"dropped\":[");
    for (size_t i = 0; i < d->ndropped; i++) {
        const store_ddef_t *c = &d->dropped[i];
        wr_str(w, i ? ",{" : "{");
        wstr(w, "name", c->name, false);
        wstr(w, "type", c->type, true);
        wstr(w, "kind", kind_names[c->kind], true);
        wr_fmt(w, ",\"time\":%lld}", (long long)c->time_us);
    }
    wr_str(w, "],\"options\":{");
    wstr(w, "comment", d->comment, false);
    wstr(w, "speculative_retry", d->speculative_retry, true);
    wstr(w, "additional_write_policy", d->additional_write_policy, true);
    wstr(w, "read_repair", d->read_repair, true);
    wr_fmt(w, ",\"default_time_to_live\":%d,\"gc_grace_seconds\":%d,\"memtable_flush_period_in_ms\":%d",
           d->default_ttl, d->gc_grace, d->memtable_flush);
    wr_fmt(w, ",\"min_index_interval\":%d,\"max_index_interval\":%d,\"cdc\":%s", d->min_idx, d->max_idx,
           d->cdc ? "true" : "false");
    wr_str(w, ",\"bloom_filter_fp_chance\":");
    json_write_f64(w, d->bloom);
    wr_str(w, ",\"crc_check_chance\":");
    json_write_f64(w, d->crc);
    wmap(w, "caching", &d->caching);
    wmap(w, "compaction", &d->compaction);
    wmap(w, "compression", &d->compression);
    wr_str(w, "}}");
}

/* ---- options ---- */

static bool parse_int_opt(const char *s, int64_t lo, int64_t hi, int32_t *out) {
    if (!s || !*s) return false;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*end || v < lo || v > hi) return false;
    *out = (int32_t)v;
    return true;
}

static int set_str(char **dst, const char *v) {
    char *s = eddy_strdup(v ? v : "");
    if (!s) return EDDY_ERR_NOMEM;
    eddy_free(*dst);
    *dst = s;
    return EDDY_OK;
}

static int set_map(store_smap_t *dst, const store_strmap_t *m, const char *class_prefix) {
    store_smap_t nm = {0};
    for (size_t i = 0; i < m->n; i++) {
        const char *v = m->values[i];
        char buf[512];
        if (class_prefix && !strcmp(m->keys[i], "class") && !strchr(v, '.')) {
            snprintf(buf, sizeof buf, "%s%s", class_prefix, v);
            v = buf;
        }
        if (store_smap_set(&nm, m->keys[i], v)) {
            store_smap_free(&nm);
            return EDDY_ERR_NOMEM;
        }
    }
    store_smap_free(dst);
    *dst = nm;
    return EDDY_OK;
}

int store_tdef_apply_options(store_tdef_t *d, const store_option_t *opts, size_t n, char *errstr, size_t errlen) {
    for (size_t i = 0; i < n; i++) {
        const store_option_t *o = &opts[i];
        char name[64];
        size_t k = 0;
        for (; o->name[k] && k + 1 < sizeof name; k++)
            name[k] = (char)((o->name[k] >= 'A' && o->name[k] <= 'Z') ? o->name[k] + 32 : o->name[k]);
        name[k] = 0;
        bool is_map = o->map != NULL;
        int32_t iv;
        if (!strcmp(name, "comment") && !is_map) {
            if (set_str(&d->comment, o->text)) return EDDY_ERR_NOMEM;
        } else if (!strcmp(name, "default_time_to_live") && !is_map) {
            if (!parse_int_opt(o->text, INT32_MIN, INT32_MAX, &iv))
                return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Invalid integer value %s for '%s'", o->text, name);
            if (iv < 0)
                return eddy_err(errstr, errlen, EDDY_ERR_INVALID,
                                "default_time_to_live must be greater than or equal to 0 (got %d)", iv);
            if (iv > STORE_MAX_TTL)
                return eddy_err(errstr, errlen, EDDY_ERR_INVALID,
                                "default_time_to_live must be less than or equal to %d (got %d)", STORE_MAX_TTL, iv);
            d->default_ttl = iv;
        } else if ((!strcmp(name, "gc_grace_seconds") || !strcmp(name, "memtable_flush_period_in_ms") ||
                    !strcmp(name, "min_index_interval") || !strcmp(name, "max_index_interval")) &&
                   !is_map) {
            if (!parse_int_opt(o->text, INT32_MIN, INT32_MAX, &iv))
                return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Invalid integer value %s for '%s'", o->text, name);
            if (iv < 0)
                return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "%s must be greater than or equal to 0 (got %d)", name, iv);
            if (name[0] == 'g') d->gc_grace = iv;
            else if (name[0] == 'm' && name[1] == 'e') d->memtable_flush = iv;
            else if (name[1] == 'i') d->min_idx = iv;
            else d->max_idx = iv;
        } else if ((!strcmp(name, "bloom_filter_fp_chance") || !strcmp(name, "crc_check_chance")) && !is_map) {
            char *end;
            double v = strtod(o->text ? o->text : "", &end);
            if (!o->text || *end || end == o->text)
                return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Invalid double value %s for '%s'", o->text, name);
            if (name[0] == 'b') {
                if (v <= 0 || v > 1)
                    return eddy_err(errstr, errlen, EDDY_ERR_INVALID,
                                    "bloom_filter_fp_chance must be larger than 0 and less than or equal to 1.0 (got %s)", o->text);
                d->bloom = v;
            } else {
                if (v < 0 || v > 1)
                    return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "crc_check_chance should be between 0.0 and 1.0");
                d->crc = v;
            }
        } else if (!strcmp(name, "cdc") && !is_map) {
            if (!o->text || (strcasecmp(o->text, "true") && strcasecmp(o->text, "false")))
                return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Invalid boolean value %s for 'cdc'", o->text);
            d->cdc = !strcasecmp(o->text, "true");
        } else if ((!strcmp(name, "speculative_retry") || !strcmp(name, "additional_write_policy") ||
                    !strcmp(name, "read_repair")) &&
                   !is_map) {
            char **dst = name[0] == 's' ? &d->speculative_retry : name[0] == 'a' ? &d->additional_write_policy : &d->read_repair;
            if (set_str(dst, o->text)) return EDDY_ERR_NOMEM;
        } else if (!strcmp(name, "caching") && is_map) {
            if (set_map(&d->caching, o->map, NULL)) return EDDY_ERR_NOMEM;
        } else if (!strcmp(name, "compaction") && is_map) {
            if (!store_smap_get(&(store_smap_t){o->map->n, (char **)o->map->keys, (char **)o->map->values}, "class"))
                return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Missing sub-option 'class' for the 'compaction' option.");
            if (set_map(&d->compaction, o->map, "org.apache.cassandra.db.compaction.")) return EDDY_ERR_NOMEM;
        } else if (!strcmp(name, "compression") && is_map) {
            if (set_map(&d->compression, o->map, "org.apache.cassandra.io.compress.")) return EDDY_ERR_NOMEM;
        } else if (!strcmp(name, "id") && !is_map) {
            uint8_t u[16];
            if (!o->text || store_parse_uuid(o->text, strlen(o->text), u))
                return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Invalid table id %s", o->text ? o->text : "");
            memcpy(d->uuid, u, 16);
        } else {
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Unknown property '%s'", o->name);
        }
    }
    return EDDY_OK;
}

/* ---- UDTs ---- */

void store_udef_free(store_udef_t *d) {
    for (size_t i = 0; i < d->n; i++) {
        eddy_free(d->fields[i]);
        eddy_free(d->types[i]);
    }
    eddy_free(d->fields);
    eddy_free(d->types);
    eddy_free(d->keyspace);
    eddy_free(d->name);
    memset(d, 0, sizeof *d);
}

int store_udef_parse(const char *json, store_udef_t *d) {
    memset(d, 0, sizeof *d);
    json_doc_t doc;
    json_doc_init(&doc);
    int rc = json_parse(&doc, json, strlen(json));
    int64_t f = rc ? -1 : json_object_get(&doc, 0, "fields", 6);
    if (rc || f < 0 || json_node(&doc, (uint32_t)f)->type != JSON_ARRAY) {
        json_doc_free(&doc);
        return EDDY_ERR_CORRUPT;
    }
    d->keyspace = jstr(&doc, 0, "keyspace");
    d->name = jstr(&doc, 0, "name");
    size_t n = json_node(&doc, (uint32_t)f)->count;
    d->fields = eddy_calloc(n ? n : 1, sizeof(char *));
    d->types = eddy_calloc(n ? n : 1, sizeof(char *));
    rc = d->keyspace && d->name && d->fields && d->types ? EDDY_OK : EDDY_ERR_CORRUPT;
    uint32_t c = json_first_child((uint32_t)f);
    for (size_t i = 0; i < n && rc == EDDY_OK; i++, c = json_next(&doc, c)) {
        d->fields[i] = jstr(&doc, c, "name");
        d->types[i] = jstr(&doc, c, "type");
        d->n++;
        if (!d->fields[i] || !d->types[i]) rc = EDDY_ERR_CORRUPT;
    }
    json_doc_free(&doc);
    if (rc) store_udef_free(d);
    return rc;
}

void store_udef_write(const store_udef_t *d, wr_t *w) {
    wr_u8(w, '{');
    wstr(w, "keyspace", d->keyspace, false);
    wstr(w, "name", d->name, true);
    wr_str(w, ",\"fields\":[");
    for (size_t i = 0; i < d->n; i++) {
        wr_str(w, i ? ",{" : "{");
        wstr(w, "name", d->fields[i], false);
        wstr(w, "type", d->types[i], true);
        wr_u8(w, '}');
    }
    wr_str(w, "]}");
}

/* ---- keyspaces ---- */

void store_kdef_free(store_kdef_t *d) {
    eddy_free(d->name);
    store_smap_free(&d->replication);
    memset(d, 0, sizeof *d);
}

int store_kdef_parse(const char *json, store_kdef_t *d) {
    memset(d, 0, sizeof *d);
    json_doc_t doc;
    json_doc_init(&doc);
    int rc = json_parse(&doc, json, strlen(json));
    if (rc == EDDY_OK) {
        d->name = jstr(&doc, 0, "name");
        d->durable_writes = jbool(&doc, 0, "durable_writes", true);
        rc = d->name ? jmap(&doc, 0, "replication", &d->replication) : EDDY_ERR_CORRUPT;
    } else {
        rc = EDDY_ERR_CORRUPT;
    }
    json_doc_free(&doc);
    if (rc) store_kdef_free(d);
    return rc;
}

void store_kdef_write(const store_kdef_t *d, wr_t *w) {
    wr_u8(w, '{');
    wstr(w, "name", d->name, false);
    wr_fmt(w, ",\"durable_writes\":%s", d->durable_writes ? "true" : "false");
    wmap(w, "replication", &d->replication);
    wr_u8(w, '}');
}

/* ---- building an immutable table ---- */

static char *adup(arena_t *a, const char *s) { return arena_strndup(a, s, strlen(s)); }

static int col_order(const void *pa, const void *pb) {
    const store_column_t *a = pa, *b = pb;
    /* partition key < clustering < static < regular; keys by position, others by name bytes */
    if (a->kind != b->kind) return a->kind < b->kind ? -1 : 1;
    if (a->kind <= STORE_COL_CLUSTERING) return a->position - b->position;
    return strcmp(a->name, b->name);
}

static void smap_view(arena_t *a, const store_smap_t *m, store_strmap_t *out) {
    const char **k = arena_alloc(a, (m->n ? m->n : 1) * sizeof *k);
    const char **v = arena_alloc(a, (m->n ? m->n : 1) * sizeof *v);
    for (size_t i = 0; k && v && i < m->n; i++) {
        k[i] = adup(a, m->k[i]);
        v[i] = adup(a, m->v[i]);
    }
    out->n = k && v ? m->n : 0;
    out->keys = k;
    out->values = v;
}

int store_table_build(const store_schema_t *schema, const char *json, store_table_t **out, char *errstr, size_t errlen) {
    store_tdef_t d;
    if (store_tdef_parse(json, &d)) return eddy_err(errstr, errlen, EDDY_ERR_CORRUPT, "corrupt table definition");
    int rc = EDDY_OK;
    store_table_t *t = eddy_calloc(1, sizeof *t);
    if (!t) {
        store_tdef_free(&d);
        return EDDY_ERR_NOMEM;
    }
    t->refs = 1;
    arena_init(&t->arena, 4096);
    arena_t *a = &t->arena;
    store_table_info_t *in = &t->info;
    in->keyspace = adup(a, d.keyspace);
    in->name = adup(a, d.name);
    memcpy(in->uuid, d.uuid, 16);
    in->id = d.id;
    in->version = d.version;
    t->def_json = eddy_strdup(json);
    t->cols = arena_alloc(a, (d.ncols ? d.ncols : 1) * sizeof *t->cols);
    if (!in->keyspace || !in->name || !t->def_json || !t->cols) {
        rc = EDDY_ERR_NOMEM;
        goto err;
    }
    memset(t->cols, 0, (d.ncols ? d.ncols : 1) * sizeof *t->cols);
    in->ncolumns = d.ncols; /* set first so that a failure releases what was parsed */
    uint32_t max_id = 0;
    if (d.ncols == 0 || d.ncols > STORE_MAX_COLUMNS) {
        rc = eddy_err(errstr, errlen, EDDY_ERR_CORRUPT, "corrupt table definition: %zu columns", d.ncols);
        goto err;
    }
    for (size_t i = 0; i < d.ncols; i++) {
        store_column_t *c = &t->cols[i];
        if (d.cols[i].id > STORE_MAX_COLUMN_ID) {
            rc = eddy_err(errstr, errlen, EDDY_ERR_CORRUPT, "corrupt table definition: column id %u", d.cols[i].id);
            goto err;
        }
        c->name = adup(a, d.cols[i].name);
        c->kind = d.cols[i].kind;
        c->desc = d.cols[i].desc;
        c->position = c->kind <= STORE_COL_CLUSTERING ? d.cols[i].position : -1;
        c->id = d.cols[i].id;
        if (c->id > max_id) max_id = c->id;
        rc = store_type_parse(schema, d.keyspace, d.cols[i].type, strlen(d.cols[i].type), &c->type, errstr, errlen);
        if (rc) goto err;
        if (c->kind == STORE_COL_PARTITION_KEY) in->npartition++;
        else if (c->kind == STORE_COL_CLUSTERING) in->nclustering++;
        else if (c->kind == STORE_COL_STATIC) in->nstatic++;
        if (c->type->kind == STORE_T_COUNTER) in->counter = true;
        if (store_type_is_multicell(c->type)) t->has_multicell = true;
    }
    qsort(t->cols, d.ncols, sizeof *t->cols, col_order);
    in->columns = t->cols;
    t->nids = max_id + 1;
    t->index_of_id = arena_alloc(a, t->nids * sizeof *t->index_of_id);
    if (!t->index_of_id) {
        rc = EDDY_ERR_NOMEM;
        goto err;
    }
    for (uint32_t i = 0; i < t->nids; i++) t->index_of_id[i] = -1;
    for (size_t i = 0; i < d.ncols; i++) {
        if (t->index_of_id[t->cols[i].id] >= 0) {
            rc = eddy_err(errstr, errlen, EDDY_ERR_CORRUPT, "corrupt table definition: column id %u twice", t->cols[i].id);
            goto err;
        }
        t->index_of_id[t->cols[i].id] = (int16_t)i;
    }
    /* key columns, in order: partition key positions 0.., then clustering positions 0.. */
    for (size_t i = 0; i < in->npartition + in->nclustering; i++) {
        const store_column_t *c = &t->cols[i];
        size_t want = i < in->npartition ? i : i - in->npartition;
        if (c->position != (int)want || (i < in->npartition) != (c->kind == STORE_COL_PARTITION_KEY)) {
            rc = eddy_err(errstr, errlen, EDDY_ERR_CORRUPT, "corrupt table definition: key column %s", c->name);
            goto err;
        }
    }
    if (in->npartition == 0) {
        rc = eddy_err(errstr, errlen, EDDY_ERR_CORRUPT, "corrupt table definition: no partition key");
        goto err;
    }

    t->dropped = arena_alloc(a, (d.ndropped ? d.ndropped : 1) * sizeof *t->dropped);
    if (!t->dropped) {
        rc = EDDY_ERR_NOMEM;
        goto err;
    }
    for (size_t i = 0; i < d.ndropped; i++) {
        store_dropped_column_t *dc = &t->dropped[i];
        dc->name = adup(a, d.dropped[i].name);
        dc->kind = d.dropped[i].kind;
        dc->dropped_time_us = d.dropped[i].time_us;
        /* a dropped UDT may be gone: fall back to blob so the description stays readable */
        if (store_type_parse(schema, d.keyspace, d.dropped[i].type, strlen(d.dropped[i].type), &dc->type, NULL, 0))
            dc->type = store_type_native(STORE_T_BLOB);
        in->ndropped++;
    }
    in->dropped = t->dropped;

    store_table_options_t *o = &in->options;
    o->comment = adup(a, d.comment);
    o->default_time_to_live = d.default_ttl;
    o->gc_grace_seconds = d.gc_grace;
    o->bloom_filter_fp_chance = d.bloom;
    o->crc_check_chance = d.crc;
    o->memtable_flush_period_in_ms = d.memtable_flush;
    o->min_index_interval = d.min_idx;
    o->max_index_interval = d.max_idx;
    o->cdc = d.cdc;
    o->speculative_retry = adup(a, d.speculative_retry);
    o->additional_write_policy = adup(a, d.additional_write_policy);
    o->read_repair = adup(a, d.read_repair);
    smap_view(a, &d.caching, &o->caching);
    smap_view(a, &d.compaction, &o->compaction);
    smap_view(a, &d.compression, &o->compression);
    store_tdef_free(&d);
    *out = t;
    return EDDY_OK;
err:
    store_tdef_free(&d);
    store_table_free_(t);
    return rc;
}

void store_table_free_(store_table_t *t) {
    if (!t) return;
    for (size_t i = 0; t->cols && i < t->info.ncolumns; i++) store_type_release(t->cols[i].type);
    for (size_t i = 0; i < t->info.ndropped; i++) store_type_release(t->dropped[i].type);
    eddy_free(t->def_json);
    arena_free(&t->arena);
    eddy_free(t);
}
