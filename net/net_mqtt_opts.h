/*
 * net_mqtt_opts.h - the [mqtt] options every program that talks to the
 * broker shares (the gateway, hazgate-jt808): the fields of its
 * configuration struct, the rows of its common/hz_ini table, the checks
 * across them, and the net_mqtt_conf made from them. Header only (macros
 * and one inline function), so a configuration library that includes it
 * links nothing more.
 *
 * A program puts NET_MQTT_OPTION_FIELDS in its `mqtt` sub-struct (beside
 * its own [mqtt] options), lists NET_MQTT_INI_CONN_ROWS and
 * NET_MQTT_INI_RECONNECT_ROWS in its table (its own rows may go between
 * them), calls net_mqtt_opts_check after loading, and fills the adapter's
 * settings with NET_MQTT_CONF_FROM.
 */
#ifndef HAZGATE_NET_MQTT_OPTS_H
#define HAZGATE_NET_MQTT_OPTS_H

#include <stddef.h>

#include "common/hz_ini.h"
#include "net/net_mqtt.h"

#define NET_MQTT_PATH_MAX 256

/* The shared options, as fields of the program's `mqtt` sub-struct. */
#define NET_MQTT_OPTION_FIELDS \
	char host[NET_MQTT_HOSTS_MAX]; \
	int port; \
	char client_id[NET_MQTT_STR_MAX]; \
	int protocol;                   /* 3 = MQTT 3.1.1, 5 = MQTT 5 */ \
	int keepalive_s; \
	char username[NET_MQTT_STR_MAX]; \
	char password_file[NET_MQTT_PATH_MAX]; \
	char tls_ca[NET_MQTT_PATH_MAX]; \
	char tls_cert[NET_MQTT_PATH_MAX]; \
	char tls_key[NET_MQTT_PATH_MAX]; \
	char status_topic[NET_MQTT_TOPIC_MAX]; \
	int reconnect_min_ms; \
	int reconnect_max_ms

/* [mqtt] protocol's spellings and their values. */
static const char *const net_mqtt_proto_names[] = { "3.1.1", "5", "311", "v5", NULL };
static const int net_mqtt_proto_values[] = { 3, 5, 3, 5 };

#define NET_MQTT_OFF_(T, M, f) offsetof(T, M.f)
#define NET_MQTT_SZ_(T, M, f) sizeof(((T *)0)->M.f)
#define NET_MQTT_STR_(T, M, k, d, h) { .section = "mqtt", .key = #k, .type = HZ_INI_STR, \
	.offset = NET_MQTT_OFF_(T, M, k), .size = NET_MQTT_SZ_(T, M, k), .def = d, .help = h }
#define NET_MQTT_INT_(T, M, k, lo, hi, d, h) { .section = "mqtt", .key = #k, \
	.type = HZ_INI_INT, .offset = NET_MQTT_OFF_(T, M, k), .min = lo, .max = hi, .def = d, \
	.help = h }

/*
 * The rows of the connection's options (host .. tls_key) for struct T
 * whose sub-struct M holds NET_MQTT_OPTION_FIELDS; CLIENT_ID is the
 * program's default client id. None is reloadable. `keepalive` is read as
 * the old spelling of `keepalive_s`.
 */
#define NET_MQTT_INI_CONN_ROWS(T, M, CLIENT_ID) \
	NET_MQTT_STR_(T, M, host, "127.0.0.1", \
		      "broker address, or a list HOST[:PORT], HOST[:PORT], ... tried in turn"), \
	NET_MQTT_INT_(T, M, port, 1, 65535, "1883", "broker port (of a broker listed without one)"), \
	NET_MQTT_STR_(T, M, client_id, CLIENT_ID, "fixed client id of the persistent session"), \
	{ .section = "mqtt", .key = "protocol", .type = HZ_INI_ENUM, \
	  .offset = NET_MQTT_OFF_(T, M, protocol), .names = net_mqtt_proto_names, \
	  .values = net_mqtt_proto_values, .def = "3.1.1", .help = "MQTT version: 3.1.1 or 5" }, \
	{ .section = "mqtt", .key = "keepalive_s", .alias = "keepalive", .type = HZ_INI_INT, \
	  .offset = NET_MQTT_OFF_(T, M, keepalive_s), .min = 5, .max = 3600, .def = "30", \
	  .help = "MQTT keepalive, seconds" }, \
	NET_MQTT_STR_(T, M, username, "", "user name (empty: anonymous)"), \
	NET_MQTT_STR_(T, M, password_file, "", "file whose first line is the password"), \
	NET_MQTT_STR_(T, M, tls_ca, "", "CA file: TLS on when set"), \
	NET_MQTT_STR_(T, M, tls_cert, "", "client certificate (PEM)"), \
	NET_MQTT_STR_(T, M, tls_key, "", "client key (PEM)")

/* The rows of status_topic and the reconnect delays, as above. */
#define NET_MQTT_INI_RECONNECT_ROWS(T, M) \
	NET_MQTT_STR_(T, M, status_topic, "hazgate/status", \
		      "retained online/offline on STATUS_TOPIC/<client_id>"), \
	NET_MQTT_INT_(T, M, reconnect_min_ms, 10, 600000, "250", \
		      "first reconnect delay (doubles, with jitter)"), \
	NET_MQTT_INT_(T, M, reconnect_max_ms, 10, 600000, "10000", "largest reconnect delay")

/* The adapter's settings borrowed from O (a sub-struct holding
 * NET_MQTT_OPTION_FIELDS), no subscriptions: a struct net_mqtt_conf
 * initializer. */
#define NET_MQTT_CONF_FROM(O) { \
	.host = (O).host, .port = (O).port, .client_id = (O).client_id, \
	.protocol = (O).protocol, .keepalive_s = (O).keepalive_s, .username = (O).username, \
	.password_file = (O).password_file, .tls_ca = (O).tls_ca, .tls_cert = (O).tls_cert, \
	.tls_key = (O).tls_key, .status_topic = (O).status_topic, \
	.reconnect_min_ms = (O).reconnect_min_ms, .reconnect_max_ms = (O).reconnect_max_ms }

/* The checks across the shared options, on the settings made from them:
 * NULL, or a static text naming the fault ("[mqtt] ..."). */
static inline const char *
net_mqtt_opts_check(const struct net_mqtt_conf *c)
{
	struct net_mqtt_broker b[NET_MQTT_BROKERS_MAX];
	const char *why = NULL;

	if (net_mqtt_brokers(c->host, c->port, b, NET_MQTT_BROKERS_MAX, &why) < 0)
		return why;
	if (c->reconnect_min_ms > c->reconnect_max_ms)
		return "[mqtt] reconnect_min_ms is above reconnect_max_ms";
	if ((c->tls_cert[0] != '\0') != (c->tls_key[0] != '\0'))
		return "[mqtt] tls_cert and tls_key go together";
	if (c->tls_cert[0] && !c->tls_ca[0])
		return "[mqtt] tls_cert needs tls_ca";
	if (c->password_file[0] && !c->username[0])
		return "[mqtt] password_file needs username";
	if (!c->client_id[0])
		return "[mqtt] client_id must not be empty (the persistent session needs it)";
	return NULL;
}

#endif
