/*
 * hz_alarm.c - the alarm names of JT/T 808's 0x0200 alarm word, by bit
 * (see hz_alarm.h). A table indexed by bit; the reverse lookup is a scan
 * of 32 entries, fast enough for the few names a fix carries.
 */
#include "common/hz_alarm.h"

#include <string.h>

static const char *const alarm_names[HZ_ALARM_BITS] = {
	"sos", "overspeed", "fatigue", "danger_warning", "gnss_fault",
	"gnss_antenna_open", "gnss_antenna_short", "power_low", "power_off",
	"lcd_fault", "tts_fault", "camera_fault", "ic_card_fault",
	"overspeed_warning", "fatigue_warning", NULL, NULL, NULL,
	"driving_time_exceeded", "parking_timeout", "area_in_out",
	"route_in_out", "section_time", "route_deviation", "vss_fault",
	"fuel_abnormal", "stolen", "illegal_ignition", "illegal_displacement",
	"collision", "rollover", "illegal_door_open",
};

const char *
hz_alarm_name(unsigned bit)
{
	return bit < HZ_ALARM_BITS ? alarm_names[bit] : NULL;
}

int
hz_alarm_bit(const char *name, size_t len)
{
	for (unsigned b = 0; b < HZ_ALARM_BITS; b++) {
		const char *n = alarm_names[b];
		if (n && strlen(n) == len && memcmp(n, name, len) == 0)
			return (int)b;
	}
	return -1;
}
