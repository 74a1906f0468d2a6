/* Fuzz target: the CQL transport and message decoders. The first byte picks the codec's mode
 * (server or client side, v4 frames or v5 segments, compression); the rest is fed in two
 * pieces. Every envelope that comes out is decoded, and every message that decodes is encoded
 * again and must decode again to the same opcode and stream. */
#include <stdlib.h>

#include "cql/cql_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    uint8_t mode = data[0];
    data++;
    size--;
    bool server = (mode & 1) == 0;
    cql_codec_t *c = cql_codec_new(server, 1 << 20);
    if (!c) return 0;
    static const cql_compression_t comps[] = {CQL_COMPRESSION_NONE, CQL_COMPRESSION_LZ4, CQL_COMPRESSION_SNAPPY,
                                              CQL_COMPRESSION_NONE};
    cql_codec_set_compression(c, comps[(mode >> 1) & 3]);
    if (mode & 8) {
        cql_codec_set_version(c, 5);
        cql_codec_start_framing(c);
    } else if (mode & 16) {
        cql_codec_set_version(c, 4);
    }
    arena_t a;
    arena_init(&a, 4096);
    char err[256];
    size_t half = size / 2;
    for (int piece = 0; piece < 2; piece++) {
        const uint8_t *p = piece ? data + half : data;
        size_t n = piece ? size - half : half;
        if (cql_codec_feed(c, p, n) != EDDY_OK) break;
        for (;;) {
            cql_envelope_t env;
            int rc = cql_codec_next(c, &env, err, sizeof err);
            if (rc != EDDY_OK) {
                if (rc != EDDY_ERR_NEED_MORE) piece = 2;
                break;
            }
            cql_msg_t m;
            if (cql_msg_decode(&env, &a, &m, err, sizeof err) == EDDY_OK) {
                wr_t w;
                wr_init(&w, 0);
                if (cql_msg_encode(&w, &m) == EDDY_OK) {
                    cql_envelope_t again;
                    cql_header_decode(w.buf, w.len, &again.h);
                    again.body = eddy_view(w.buf + CQL_HEADER_SIZE, w.len - CQL_HEADER_SIZE);
                    cql_msg_t m2;
                    if (cql_msg_decode(&again, &a, &m2, err, sizeof err) != EDDY_OK ||
                        m2.opcode != m.opcode || m2.stream != m.stream)
                        abort();
                }
                if (m.opcode == CQL_OP_RESULT && m.u.result.kind == CQL_RESULT_ROWS) {
                    cql_rows_cursor_t cur;
                    cql_rows_cursor_init(&cur, m.u.result.rows_content);
                    cql_value_t v;
                    while (rd_remaining(&cur.r) && cql_rows_next_value(&cur, &v)) {}
                    for (int32_t i = 0; m.u.result.meta.columns && i < m.u.result.meta.columns_count; i++) {
                        wr_t tw;
                        wr_init(&tw, 0);
                        cql_type_format(&tw, m.u.result.meta.columns[i].type, true);
                        wr_free(&tw);
                    }
                }
                wr_free(&w);
            }
            arena_reset(&a);
        }
    }
    arena_free(&a);
    cql_codec_free(c);
    return 0;
}
