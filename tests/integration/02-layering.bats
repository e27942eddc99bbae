#!/usr/bin/env bats
# 02-layering: the import graph has no circles (issue 10): between modules
# by their #include lines, and between the files of each folder by which
# object calls which (scripts/check-layering, nm on the build's objects);
# the pure modules include no event loop, database or broker header.

@test "no circle between modules or between the files of a folder" {
  run "$HG_SRCDIR/scripts/check-layering" "$HG_SRCDIR" "$HG_BUILDDIR"
  echo "$output"
  [ "$status" -eq 0 ]
  # it did look: every folder with code was read
  for f in common geofence ingest decide jt808 gateway tracker ctl loadgen; do
    [[ "$output" == *"$f: "*" objects, "* ]]
  done
}

@test "the check finds a circle when there is one" {
  # a copy of a folder's objects where two files call each other
  work=$(mktemp -d)
  mkdir -p "$work/src/ingest" "$work/build/ingest"
  printf '#include "ingest/b.h"\n' > "$work/src/ingest/a.c"
  printf 'void b(void); void a(void); void a(void) { b(); }\n' > "$work/a.c"
  printf 'void a(void); void b(void); void b(void) { a(); }\n' > "$work/b.c"
  cc -c -o "$work/build/ingest/a.o" "$work/a.c"
  cc -c -o "$work/build/ingest/b.o" "$work/b.c"
  printf 'am_ingest_libingest_a_OBJECTS = ingest/a.$(OBJEXT) \\\n\tingest/b.$(OBJEXT)\n' \
    > "$work/build/Makefile"
  run "$HG_SRCDIR/scripts/check-layering" "$work/src" "$work/build"
  rm -rf "$work"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"file cycle in ingest/: a -> b -> a"* ]]
}
