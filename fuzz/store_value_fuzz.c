/* Fuzz target: values of every type from untrusted bytes. The first byte picks a type and a
 * mode; the rest is either a serialized value (validation, then for valid values: the
 * comparator, the order-preserving key encoding and its decoding, CQL and JSON printing and
 * reading back, normalization), a CQL literal, a JSON text, or a row fragment (the merge
 * operator and the purge must survive corrupt data). Anything accepted must round-trip. */
#include <stdlib.h>

#include "store/store_int.h"

static const char *const types[] = {
    "ascii", "bigint", "blob", "boolean", "counter", "decimal", "double", "float", "int", "timestamp", "uuid",
    "text", "varint", "timeuuid", "inet", "date", "time", "smallint", "tinyint", "duration", "list<int>",
    "set<text>", "map<text, frozen<list<int>>>", "frozen<tuple<int, text, frozen<set<decimal>>>>",
    "frozen<map<varint, frozen<tuple<timeuuid, double>>>>", "list<frozen<set<uuid>>>",
};

static void check_value(const store_type_t *t, const uint8_t *p, size_t n) {
    if (store_value_validate(t, p, n, NULL, 0) != EDDY_OK) return;
    if (store_value_compare(t, p, n, p, n) != 0) abort();
    wr_t norm, key, dec, txt, back, js;
    wr_init(&norm, 64);
    wr_init(&key, 64);
    wr_init(&dec, 64);
    wr_init(&txt, 64);
    wr_init(&back, 64);
    wr_init(&js, 64);
    if (store_value_normalize(t, p, n, &norm, 0) != EDDY_OK) abort();
    const uint8_t *v = norm.buf ? norm.buf : (const uint8_t *)"";
    size_t vn = norm.len;
    for (int desc = 0; desc < 2; desc++) {
        wr_reset(&key);
        wr_reset(&dec);
        store_okey_encode(t, v, vn, desc, &key);
        rd_t r = rd_init(key.buf, key.len);
        bool is_null;
        if (t->kind != STORE_T_DURATION && t->kind != STORE_T_COUNTER &&
            (store_okey_decode(t, &r, desc, &dec, &is_null) != EDDY_OK || rd_remaining(&r) ||
             store_value_compare(t, dec.buf, dec.len, v, vn) != 0))
            abort();
    }
    store_value_format_cql(t, v, vn, &txt);
    bool is_null;
    /* NaN and infinities print as words that read back; everything printed must parse */
    if (store_value_parse_cql(t, (const char *)txt.buf, txt.len, &back, &is_null, NULL, 0) == EDDY_OK && !is_null &&
        t->kind != STORE_T_FLOAT && t->kind != STORE_T_DOUBLE && t->kind != STORE_T_DURATION && !store_type_is_collection(t) &&
        t->kind != STORE_T_TUPLE && store_value_compare(t, back.buf, back.len, v, vn) != 0)
        abort();
    store_value_to_json(t, v, vn, &js);
    wr_reset(&back);
    store_value_from_json_text(t, (const char *)js.buf, js.len, &back, &is_null, NULL, 0);
    wr_t s;
    wr_init(&s, 32);
    store_value_format_text(t, v, vn, &s);
    wr_free(&s);
    wr_free(&norm);
    wr_free(&key);
    wr_free(&dec);
    wr_free(&txt);
    wr_free(&back);
    wr_free(&js);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    size_t ti = (data[0] & 0x1F) % EDDY_ARRAY_LEN(types);
    int mode = data[0] >> 5;
    const store_type_t *t = NULL;
    if (store_type_parse(NULL, NULL, types[ti], strlen(types[ti]), &t, NULL, 0) != EDDY_OK) abort();
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    wr_t out;
    wr_init(&out, 64);
    bool is_null;
    switch (mode) {
    case 0:
    case 1:
    case 2: check_value(t, p, n); break;
    case 3:
        if (store_value_parse_cql(t, (const char *)p, n, &out, &is_null, NULL, 0) == EDDY_OK && !is_null) {
            if (store_value_validate(t, out.buf, out.len, NULL, 0) != EDDY_OK) abort();
            check_value(t, out.buf, out.len);
        }
        break;
    case 4:
        if (store_value_from_json_text(t, (const char *)p, n, &out, &is_null, NULL, 0) == EDDY_OK && !is_null) {
            if (store_value_validate(t, out.buf, out.len, NULL, 0) != EDDY_OK) abort();
            check_value(t, out.buf, out.len);
        }
        break;
    case 5: {
        /* row fragments: merge with itself and with nothing, purge */
        wr_t m;
        wr_init(&m, 64);
        store_frag_merge(p, n, p, n, &m);
        wr_reset(&m);
        store_frag_merge(NULL, 0, p, n, &m);
        bool empty, changed;
        wr_reset(&m);
        store_frag_purge(p, n, 1700000000, 10, NULL, NULL, &m, &empty, &changed);
        wr_free(&m);
        break;
    }
    default: {
        /* key decoding of a type, as on a corrupt key */
        rd_t r = rd_init(p, n);
        store_okey_decode(t, &r, mode == 6, &out, &is_null);
        break;
    }
    }
    wr_free(&out);
    store_type_release(t);
    return 0;
}
