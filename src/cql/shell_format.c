/* How `eddy cql` prints values and results, as cqlsh 4.x does: text bare at the top level and
 * quoted inside collections, floats with 5 and doubles with 12 significant digits, timestamps as
 * "2024-01-02 03:04:05.678000+0000", blobs as 0x..., booleans True/False; tables with the header
 * left-aligned and values right-aligned, or one "@ Row N" block per row when EXPAND is on. */
#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>

#include "cql/cql_int.h"

static void fmt_float(wr_t *w, double v, int precision) {
    if (isnan(v)) {
        wr_str(w, "NaN");
        return;
    }
    if (isinf(v)) {
        wr_str(w, v > 0 ? "Infinity" : "-Infinity");
        return;
    }
    /* cqlsh widens the precision by the digits left of the point, so that %g stays plain. */
    int exponent = fabs(v) > 2.2e-16 ? (int)floor(log10(fabs(v))) : -1000;
    if (exponent >= -4 && exponent < precision) precision = precision + exponent + 1;
    if (precision > 17) precision = 17;
    if (precision < 1) precision = 1;
    wr_fmt(w, "%.*g", precision, v);
}

static void fmt_uuid(wr_t *w, const uint8_t *p) {
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) wr_u8(w, '-');
        wr_fmt(w, "%02x", p[i]);
    }
}

static void fmt_text(wr_t *w, const uint8_t *p, size_t n, bool quote) {
    if (quote) wr_u8(w, '\'');
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (c == '\\') wr_str(w, "\\\\");
        else if (quote && c == '\'') wr_str(w, "''");
        else if (c < 0x20 || c == 0x7f) wr_fmt(w, "\\x%02x", c);
        else wr_u8(w, c);
    }
    if (quote) wr_u8(w, '\'');
}

static void fmt_timestamp(wr_t *w, int64_t ms) {
    int64_t days = ms >= 0 ? ms / 86400000 : (ms - 86399999) / 86400000;
    int64_t rem = ms - days * 86400000;
    int64_t y;
    unsigned mo, d;
    time_civil_from_days(days, &y, &mo, &d);
    wr_fmt(w, "%04lld-%02u-%02u %02lld:%02lld:%02lld.%06lld+0000", (long long)y, mo, d, (long long)(rem / 3600000),
           (long long)(rem / 60000 % 60), (long long)(rem / 1000 % 60), (long long)(rem % 1000) * 1000);
}

/* Types the store knows how to print as text (numbers without a fixed width, durations). */
static void fmt_store_text(wr_t *w, uint16_t kind, const uint8_t *p, size_t n) {
    store_value_format_text(store_type_native((store_kind_t)kind), p, n, w);
}

void cql_shell_format_value(wr_t *w, const cql_type_t *t, const uint8_t *p, int32_t len, bool nested) {
    if (len < 0) {
        wr_str(w, "null");
        return;
    }
    size_t n = (size_t)len;
    switch (t->id) {
    case CQL_TYPE_ASCII:
    case CQL_TYPE_VARCHAR: fmt_text(w, p, n, nested); return;
    case CQL_TYPE_BOOLEAN: wr_str(w, n && p[0] ? "True" : "False"); return;
    case CQL_TYPE_TINYINT: if (n == 1) { wr_fmt(w, "%d", (int8_t)p[0]); return; } break;
    case CQL_TYPE_SMALLINT: if (n == 2) { wr_fmt(w, "%d", (int16_t)load_u16(p)); return; } break;
    case CQL_TYPE_INT: if (n == 4) { wr_fmt(w, "%d", (int32_t)load_u32(p)); return; } break;
    case CQL_TYPE_BIGINT:
    case CQL_TYPE_COUNTER: if (n == 8) { wr_fmt(w, "%lld", (long long)(int64_t)load_u64(p)); return; } break;
    case CQL_TYPE_FLOAT:
        if (n == 4) {
            uint32_t u = load_u32(p);
            float f;
            memcpy(&f, &u, 4);
            fmt_float(w, f, 5);
            return;
        }
        break;
    case CQL_TYPE_DOUBLE:
        if (n == 8) {
            uint64_t u = load_u64(p);
            double d;
            memcpy(&d, &u, 8);
            fmt_float(w, d, 12);
            return;
        }
        break;
    case CQL_TYPE_VARINT:
    case CQL_TYPE_DECIMAL:
    case CQL_TYPE_DURATION:
    case CQL_TYPE_TIME:
        if (n == 0) break;
        if (nested && (t->id == CQL_TYPE_TIME)) wr_u8(w, '\'');
        fmt_store_text(w, t->id, p, n);
        if (nested && (t->id == CQL_TYPE_TIME)) wr_u8(w, '\'');
        return;
    case CQL_TYPE_DATE:
        if (n == 4) {
            int64_t y;
            unsigned mo, d;
            time_civil_from_days((int64_t)load_u32(p) - (1ll << 31), &y, &mo, &d);
            wr_fmt(w, nested ? "'%04lld-%02u-%02u'" : "%04lld-%02u-%02u", (long long)y, mo, d);
            return;
        }
        break;
    case CQL_TYPE_TIMESTAMP:
        if (n == 8) {
            if (nested) wr_u8(w, '\'');
            fmt_timestamp(w, (int64_t)load_u64(p));
            if (nested) wr_u8(w, '\'');
            return;
        }
        break;
    case CQL_TYPE_UUID:
    case CQL_TYPE_TIMEUUID:
        if (n == 16) {
            fmt_uuid(w, p);
            return;
        }
        break;
    case CQL_TYPE_INET: {
        char buf[INET6_ADDRSTRLEN];
        if ((n == 4 || n == 16) && inet_ntop(n == 4 ? AF_INET : AF_INET6, p, buf, sizeof buf)) {
            wr_fmt(w, nested ? "'%s'" : "%s", buf);
            return;
        }
        break;
    }
    case CQL_TYPE_LIST:
    case CQL_TYPE_SET:
    case CQL_TYPE_MAP: {
        rd_t r = rd_init(p, n);
        int32_t count = rd_i32(&r);
        bool map = t->id == CQL_TYPE_MAP;
        wr_u8(w, t->id == CQL_TYPE_LIST ? '[' : '{');
        for (int32_t i = 0; i < count && rd_ok(&r); i++) {
            if (i) wr_str(w, ", ");
            cql_value_t v = cql_rd_bytes(&r);
            cql_shell_format_value(w, t->sub[0], v.ptr, v.len, true);
            if (map) {
                wr_str(w, ": ");
                v = cql_rd_bytes(&r);
                cql_shell_format_value(w, t->sub[1], v.ptr, v.len, true);
            }
        }
        wr_u8(w, t->id == CQL_TYPE_LIST ? ']' : '}');
        return;
    }
    case CQL_TYPE_TUPLE:
    case CQL_TYPE_UDT: {
        rd_t r = rd_init(p, n);
        bool udt = t->id == CQL_TYPE_UDT;
        wr_u8(w, udt ? '{' : '(');
        for (uint16_t i = 0; i < t->count && rd_remaining(&r); i++) {
            if (i) wr_str(w, ", ");
            if (udt) {
                wr_bytes(w, t->fields[i].ptr, t->fields[i].len);
                wr_str(w, ": ");
            }
            cql_value_t v = cql_rd_bytes(&r);
            cql_shell_format_value(w, t->sub[i], v.ptr, v.len, true);
        }
        wr_u8(w, udt ? '}' : ')');
        return;
    }
    default: break;
    }
    /* blobs, custom types and anything malformed: hex */
    wr_str(w, "0x");
    for (size_t i = 0; i < n; i++) wr_fmt(w, "%02x", p[i]);
}

/* Display width of UTF-8 text: code points (wide characters count one; good enough here). */
static size_t display_width(const char *s, size_t n) {
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
        if (((uint8_t)s[i] & 0xC0) != 0x80) w++;
    return w;
}

static void pad(FILE *out, size_t n) {
    for (size_t i = 0; i < n; i++) fputc(' ', out);
}

/* Formats every value of the page: cells[row * ncols + col] as offsets into buf. */
typedef struct {
    wr_t buf;
    size_t *off;
    size_t *len;
} cells_t;

static bool format_cells(const cql_result_t *res, cells_t *c) {
    size_t nrows = cql_result_row_count(res), ncols = cql_result_column_count(res);
    wr_init(&c->buf, 1024);
    c->off = eddy_calloc(nrows * ncols + 1, sizeof *c->off);
    c->len = eddy_calloc(nrows * ncols + 1, sizeof *c->len);
    if (!c->off || !c->len) return false;
    for (size_t r = 0; r < nrows; r++) {
        for (size_t k = 0; k < ncols; k++) {
            cql_value_t v = cql_result_value(res, r, k);
            size_t start = c->buf.len;
            cql_shell_format_value(&c->buf, cql_result_column_type(res, k), v.ptr, v.len, false);
            c->off[r * ncols + k] = start;
            c->len[r * ncols + k] = c->buf.len - start;
        }
    }
    return wr_ok(&c->buf);
}

static void cells_free(cells_t *c) {
    wr_free(&c->buf);
    eddy_free(c->off);
    eddy_free(c->len);
}

void cql_shell_print_rows(FILE *out, const cql_result_t *res, bool header, bool expand, size_t row_offset) {
    size_t nrows = cql_result_row_count(res), ncols = cql_result_column_count(res);
    cells_t c;
    memset(&c, 0, sizeof c);
    if (!format_cells(res, &c)) {
        cells_free(&c);
        fprintf(out, "(out of memory formatting the result)\n");
        return;
    }
    size_t *widths = eddy_calloc(ncols + 1, sizeof *widths);
    if (!widths) {
        cells_free(&c);
        return;
    }
    for (size_t k = 0; k < ncols; k++) {
        const char *name = cql_result_column_name(res, k);
        widths[k] = display_width(name, strlen(name));
        for (size_t r = 0; r < nrows; r++) {
            size_t dw = display_width((const char *)c.buf.buf + c.off[r * ncols + k], c.len[r * ncols + k]);
            if (dw > widths[k]) widths[k] = dw;
        }
    }
    if (expand) {
        size_t maxn = 0, maxv = 0;
        for (size_t k = 0; k < ncols; k++) {
            size_t dw = display_width(cql_result_column_name(res, k), strlen(cql_result_column_name(res, k)));
            if (dw > maxn) maxn = dw;
        }
        for (size_t i = 0; i < nrows * ncols; i++) {
            size_t dw = display_width((const char *)c.buf.buf + c.off[i], c.len[i]);
            if (dw > maxv) maxv = dw;
        }
        for (size_t r = 0; r < nrows; r++) {
            fprintf(out, "@ Row %zu\n-", row_offset + r + 1);
            for (size_t i = 0; i < maxn; i++) fputc('-', out);
            fputs("-+-", out);
            for (size_t i = 0; i < maxv; i++) fputc('-', out);
            fputs("-\n", out);
            for (size_t k = 0; k < ncols; k++) {
                const char *name = cql_result_column_name(res, k);
                fputc(' ', out);
                fputs(name, out);
                pad(out, maxn - display_width(name, strlen(name)));
                fputs(" | ", out);
                fwrite(c.buf.buf + c.off[r * ncols + k], 1, c.len[r * ncols + k], out);
                fputc('\n', out);
            }
            fputc('\n', out);
        }
    } else {
        if (header) {
            /* header: names left-aligned, trailing spaces trimmed; then the rule */
            wr_t line;
            wr_init(&line, 256);
            wr_u8(&line, ' ');
            for (size_t k = 0; k < ncols; k++) {
                const char *name = cql_result_column_name(res, k);
                if (k) wr_str(&line, " | ");
                wr_str(&line, name);
                for (size_t i = display_width(name, strlen(name)); i < widths[k]; i++) wr_u8(&line, ' ');
            }
            while (line.len > 0 && line.buf[line.len - 1] == ' ') line.len--;
            fwrite(line.buf, 1, line.len, out);
            fputc('\n', out);
            wr_free(&line);
            fputc('-', out);
            for (size_t k = 0; k < ncols; k++) {
                if (k) fputs("-+-", out);
                for (size_t i = 0; i < widths[k]; i++) fputc('-', out);
            }
            fputs("-\n", out);
        }
        for (size_t r = 0; r < nrows; r++) {
            fputc(' ', out);
            for (size_t k = 0; k < ncols; k++) {
                if (k) fputs(" | ", out);
                const char *s = (const char *)c.buf.buf + c.off[r * ncols + k];
                size_t n = c.len[r * ncols + k];
                pad(out, widths[k] - display_width(s, n));
                fwrite(s, 1, n, out);
            }
            fputc('\n', out);
        }
    }
    eddy_free(widths);
    cells_free(&c);
}

/* cqlsh's names for the server's errors. */
void cql_shell_error_name(int32_t code, const char **cls, const char **summary) {
    switch (code) {
    case CQL_ERR_SERVER: *cls = "ServerError"; *summary = "Server error"; break;
    case CQL_ERR_PROTOCOL: *cls = "ProtocolException"; *summary = "Protocol error"; break;
    case CQL_ERR_BAD_CREDENTIALS: *cls = "AuthenticationFailed"; *summary = "Bad credentials"; break;
    case CQL_ERR_UNAVAILABLE: *cls = "Unavailable"; *summary = "Unavailable exception"; break;
    case CQL_ERR_OVERLOADED: *cls = "OverloadedErrorMessage"; *summary = "Coordinator node overloaded"; break;
    case CQL_ERR_WRITE_TIMEOUT: *cls = "WriteTimeout"; *summary = "Coordinator node timed out waiting for replica nodes' responses"; break;
    case CQL_ERR_READ_TIMEOUT: *cls = "ReadTimeout"; *summary = "Coordinator node timed out waiting for replica nodes' responses"; break;
    case CQL_ERR_SYNTAX: *cls = "SyntaxException"; *summary = "Syntax error in CQL query"; break;
    case CQL_ERR_UNAUTHORIZED: *cls = "Unauthorized"; *summary = "Unauthorized"; break;
    case CQL_ERR_INVALID: *cls = "InvalidRequest"; *summary = "Invalid query"; break;
    case CQL_ERR_CONFIG: *cls = "ConfigurationException"; *summary = "Query invalid because of configuration issue"; break;
    case CQL_ERR_ALREADY_EXISTS: *cls = "AlreadyExists"; *summary = "Item already exists"; break;
    case CQL_ERR_UNPREPARED: *cls = "PreparedQueryNotFound"; *summary = "Matching prepared statement not found on this node"; break;
    default: *cls = "Error"; *summary = "Unknown"; break;
    }
}
