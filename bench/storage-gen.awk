# storage-gen.awk: a simulated fleet's fixes as the gateway's COPY text for
# positions (gateway/gw_batch.c: vehicle, ts, lat, lon, speed_kmh, heading,
# alt_m, hdop, fix, sats, un, hazard_class, seq, ignition, zone_ids,
# received_at), in arrival order (time, then vehicle), for
# bench/bench_storage.sh. Variables: vehicles, hours, step_s, start (epoch
# seconds, UTC), seed, prefix (vehicle names: prefix + number). Tankers
# drive, stop and turn like the sample fleet's: lat/lon to 1e-7 degree,
# speed and heading to 0.1, received 0.05-1.5 s after the fix (microseconds).
# The gateway's form of a time: always six decimals (gw_format_ts).
function ts(sec, us,    d) {
	return strftime("%Y-%m-%d %H:%M:%S", sec, 1) sprintf(".%06d", us >= 0 ? us : 0) "+00"
}
BEGIN {
	srand(seed ? seed : 15);
	n = vehicles; steps = int(hours * 3600 / step_s);
	classes[0] = "3"; classes[1] = "2.1"; classes[2] = "8"; classes[3] = "6.1";
	uns[0] = "1203"; uns[1] = "1075"; uns[2] = "1789"; uns[3] = "1680";
	for (v = 0; v < n; v++) {
		lat[v] = 37.6 + rand() * 0.4; lon[v] = 112.3 + rand() * 0.5;
		hdg[v] = rand() * 360; spd[v] = rand() * 60; stop[v] = 0;
		seq[v] = int(rand() * 100000); cls[v] = int(rand() * 4);
		name[v] = sprintf("%s%05d", prefix, v + 1);
	}
	for (s = 0; s < steps; s++) {
		t = start + s * step_s;
		for (v = 0; v < n; v++) {
			if (stop[v] > 0) { stop[v]--; spd[v] = 0 }
			else if (rand() < 0.004) { stop[v] = int(rand() * 90) }
			else {
				spd[v] += (rand() - 0.5) * 8;
				if (spd[v] < 5) spd[v] = 5; if (spd[v] > 85) spd[v] = 85;
				if (rand() < 0.05) hdg[v] += (rand() - 0.5) * 120; else hdg[v] += (rand() - 0.5) * 6;
				if (hdg[v] < 0) hdg[v] += 360; if (hdg[v] >= 360) hdg[v] -= 360;
			}
			d = spd[v] / 3.6 * step_s;
			lat[v] += d * cos(hdg[v] * 0.0174533) / 111320;
			lon[v] += d * sin(hdg[v] * 0.0174533) / (111320 * 0.79);
			sats = 8 + int(rand() * 2) * (rand() < 0.1);
			zone = (lat[v] > 37.8 && lat[v] < 37.85) ? "{7}" : "{}";
			rx = int(50000 + rand() * 1450000);
			printf "%s\t%s\t%.7f\t%.7f\t%.1f\t%.1f\t\\N\t%.1f\t3\t%d\t%s\t%s\t%d\t\\N\t%s\t%s\n",
				name[v], ts(t, -1), lat[v], lon[v], spd[v], hdg[v], 0.9 + int(rand() * 3) / 10,
				sats, uns[cls[v]], classes[cls[v]], seq[v]++, zone,
				ts(t + int(rx / 1000000), rx % 1000000);
		}
	}
}
