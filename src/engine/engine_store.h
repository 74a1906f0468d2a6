/* Inside the engine: conversions between the engine's typed values and the store's serialized
 * cells (the native protocol's value encodings). */
#ifndef EDDY_ENGINE_STORE_H
#define EDDY_ENGINE_STORE_H

#include "engine/engine_val.h"
#include "store/store.h"

/* The engine type of a store type (UDTs, tuples, durations and time are dynamic). */
engine_type_t engine_store_type(const store_type_t *t);
/* Appends v serialized as type t to w. Returns EDDY_OK, EDDY_ERR_INVALID with a message when v
 * cannot be that type (wrong kind, out of range, null inside a collection), EDDY_ERR_NOMEM. */
int engine_store_value(const store_type_t *t, const engine_val_t *v, wr_t *w, char *errstr, size_t errlen);
/* Reads a serialized cell of type t (bytes from disk: validated) into out, allocating in a.
 * Returns EDDY_OK, EDDY_ERR_CORRUPT or EDDY_ERR_NOMEM. */
int engine_store_read(const store_type_t *t, const uint8_t *p, size_t n, arena_t *a, engine_val_t *out);

#endif
