/*
 * jt_registry.h - hazgate-jt808's terminals registry in memory (prefix
 * jt_registry_, jt_auth_, jt_plate_): phone number -> vehicle (the plate
 * of vehicles.terminal_phone), the hash of its auth code, its last
 * positioned fix. Loaded from PostgreSQL at start and kept current by
 * NOTIFY (jt_db.c), so that no message waits on the database.
 *
 * Pure: no I/O, no event loop. The auth codes are made with libsodium's
 * random bytes and kept as SHA-256 (crypto_hash_sha256), the same digest
 * PostgreSQL's sha256() gives, so an operator can provision a known code
 * in SQL (jt808/README.md); plates come in GBK (GB 18030) and are
 * converted with iconv.
 */
#ifndef HAZGATE_JT_REGISTRY_H
#define HAZGATE_JT_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jt808/jt808.h"

#define JT_VEHICLE_MAX 32       /* bytes of UTF-8 (ingest's ING_VEHICLE_MAX) */
#define JT_AUTH_HASH_BYTES 32   /* SHA-256 */
#define JT_AUTH_CODE_LEN 16     /* characters of a code we make (80 bits) */

/* One terminal. Treat as owned by the registry: pointers stay valid until
 * jt_registry_free (entries are never removed, only cleared). */
struct jt_term {
	struct jt_term *next;           /* hash chain */
	char phone[JT_PHONE_DIGITS_MAX + 1];
	char vehicle[JT_VEHICLE_MAX + 1]; /* plate of vehicles.terminal_phone; "" = none */
	uint8_t auth_hash[JT_AUTH_HASH_BYTES];
	bool has_auth;                  /* an auth code is on file */
	bool known;                     /* in the database's registry */
	bool loaded;                    /* seen by the load in progress */
	bool seen;                      /* authenticated since last_seen was written */
	bool has_fix;                   /* last positioned fix, for alarm-only reports */
	int32_t lat_e6, lon_e6;
	int64_t fix_us;
};

struct jt_registry {
	struct jt_term **slots;
	size_t nslots;                  /* a power of two */
	size_t count;                   /* entries */
	size_t known;                   /* entries with known set (for /metrics) */
};

/* Empty registry. Returns false out of memory. */
bool jt_registry_init(struct jt_registry *r);
void jt_registry_free(struct jt_registry *r);

/* The entry of PHONE, or NULL. */
struct jt_term *jt_registry_find(const struct jt_registry *r, const char *phone);

/* The entry of PHONE, made empty (not known) when absent; NULL out of
 * memory or when PHONE is longer than JT_PHONE_DIGITS_MAX. */
struct jt_term *jt_registry_add(struct jt_registry *r, const char *phone);

/*
 * Set what the database says of PHONE: vehicle (NULL or "" = none),
 * auth_hash (NULL = no code). A vehicle that is not a valid vehicle name
 * (ingest's rule) is not kept. Marks the entry known and loaded. Returns
 * the entry, or NULL out of memory.
 */
struct jt_term *jt_registry_set(struct jt_registry *r, const char *phone, const char *vehicle,
                                 const uint8_t *auth_hash);

/* PHONE is no longer in the database: cleared (not known, no vehicle, no
 * code); its last fix is kept. */
void jt_registry_clear(struct jt_registry *r, const char *phone);

/* A full load: begin clears every entry's loaded mark, the rows are given
 * with jt_registry_set, end clears the entries the load did not give. */
void jt_registry_load_begin(struct jt_registry *r);
void jt_registry_load_end(struct jt_registry *r);

/* Whether some entry has VEHICLE as its vehicle (a plate already mapped
 * to another terminal). A walk of the whole table: for registrations. */
bool jt_registry_vehicle_taken(const struct jt_registry *r, const char *vehicle);

/* The name published for T (its plate, else its phone); never empty. */
const char *jt_term_vehicle(const struct jt_term *t);

/* A new auth code: JT_AUTH_CODE_LEN characters of [A-Z2-7] and a NUL. */
void jt_auth_new_code(char code[JT_AUTH_CODE_LEN + 1]);

/* SHA-256 of the code's bytes. */
void jt_auth_hash(const uint8_t *code, size_t len, uint8_t out[JT_AUTH_HASH_BYTES]);

/* Whether CODE matches T's code on file (false when none), in constant
 * time. */
bool jt_auth_check(const struct jt_term *t, const uint8_t *code, size_t len);

/*
 * The plate of a 0x0100 (GBK bytes, trailing NULs and blanks dropped)
 * as UTF-8 in out (cap bytes, NUL-terminated). Returns false when there is
 * none, it does not convert, or it is not a valid vehicle name (ingest's:
 * 1..32 bytes, no control character, no '+', '#', '/').
 */
bool jt_plate_utf8(const uint8_t *gbk, size_t len, char *out, size_t cap);

#endif
