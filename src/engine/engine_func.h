/* Inside the engine: what the scalar function files share (func.c, func_time.c). */
#ifndef EDDY_ENGINE_FUNC_H
#define EDDY_ENGINE_FUNC_H

#include "engine/engine_expr.h"

typedef engine_func_t func_entry_t;

/* The function tables, each ended by an entry whose name is NULL. */
extern const func_entry_t engine_func_table_strings[];
extern const func_entry_t engine_func_table_time[];

/* Copies s into the row's arena as a text value. Returns EDDY_OK or EDDY_ERR_NOMEM. */
int func_text_out(engine_row_t *row, const char *s, size_t n, engine_val_t *out);
/* Whether a static type fits a signature letter (ENGINE_ANY fits every letter). */
bool func_kind_matches(char sig, const engine_type_t *t);
int func_check_sig(const char *fname, const char *sig, const engine_type_t *args, int n, char *errstr, size_t errlen);

#endif
