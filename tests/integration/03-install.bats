#!/usr/bin/env bats
# 03-install: make install DESTDIR=... in the build directory puts the
# programs in bindir, the systemd units (made from their .service.in
# templates) in the unit directory with ExecStart naming the installed
# programs, the sample configurations in $(docdir)/examples and the READMEs
# in $(docdir); make uninstall DESTDIR=... removes every file again.
# No services needed. The directories are the build's own, read from its
# Makefile, so the test holds for any configure options.

# hg_make ARGS: make in the build directory, apart from a make check that
# may be running this file (its flags and job server are not ours).
hg_make() {
  env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory -C "$HG_BUILDDIR" "$@"
}

# mkvar VAR: the value of the Makefile's VAR, expanded (bindir is
# ${exec_prefix}/bin in the Makefile).
mkvar() {
  printf 'hg-print-var:\n\t@echo '\''$(%s)'\''\n' "$1" | hg_make -s -f Makefile -f - hg-print-var
}

setup_file() {
  HG_INSTALL_ROOT=$(mktemp -d)
  export HG_INSTALL_ROOT
  hg_make -s install DESTDIR="$HG_INSTALL_ROOT" >"$HG_INSTALL_ROOT.install.log" 2>&1 || true
}

teardown_file() {
  rm -rf "$HG_INSTALL_ROOT" "$HG_INSTALL_ROOT.install.log" "$HG_INSTALL_ROOT.verify"
}

setup() {
  root=$HG_INSTALL_ROOT
  bindir=$(mkvar bindir)
  sysconfdir=$(mkvar sysconfdir)
  docdir=$(mkvar docdir)
  unitdir=$(mkvar systemdsystemunitdir)
  echo "bindir=$bindir sysconfdir=$sysconfdir docdir=$docdir unitdir=$unitdir"
  [ -n "$bindir" ]
  [ -n "$sysconfdir" ]
  [ -n "$docdir" ]
}

# execline UNIT KEY: the command line of UNIT's KEY= (ExecStart, ...).
execline() { sed -n "s/^$2=//p" "$1"; }

@test "make install DESTDIR=... succeeds" {
  cat "$root.install.log"
  hg_make -s install DESTDIR="$root"
}

@test "the programs are in bindir" {
  progs=$(mkvar bin_PROGRAMS)
  echo "bin_PROGRAMS=$progs"
  [[ " $progs " == *" hazgate "* ]]
  [[ " $progs " == *" hazgate-tracker "* ]]
  for p in $progs; do
    echo "$root$bindir/$p"
    [ -x "$root$bindir/$p" ]
  done
}

@test "each unit is installed and runs the installed program with the configuration in sysconfdir" {
  if grep -qx 'systemdsystemunitdir = ' "$HG_BUILDDIR/Makefile"; then
    # configured --without-systemdsystemunitdir: no unit installed
    echo "# configured without a systemd unit directory: no unit checked" >&3
    [ -z "$(find "$root" -name '*.service')" ]
    return 0
  fi
  [ -n "$unitdir" ]   # configure's --with-systemdsystemunitdir
  for u in hazgate:hazgate.conf hazgate-tracker:tracker.conf; do
    prog=${u%%:*} conf=${u#*:}
    unit=$root$unitdir/$prog.service
    echo "unit $unit"
    [ -f "$unit" ]
    [ -z "$(grep -n '@[a-z]*@' "$unit")" ]   # every template variable substituted
    start=$(execline "$unit" ExecStart)
    pre=$(execline "$unit" ExecStartPre)
    echo "ExecStart=$start"
    echo "ExecStartPre=$pre"
    [ "$start" = "$bindir/$prog -c $sysconfdir/hazgate/$conf" ]
    [ "$pre" = "$bindir/$prog -c $sysconfdir/hazgate/$conf --check-config" ]
    # the program it names is the one make install put there
    [ -x "$root${start%% *}" ]
    grep -qx "Documentation=file://$docdir/[a-z]*/README.md" "$unit"
  done
}

@test "the installed units pass systemd-analyze verify" {
  # scripts/install-deps installs systemd (systemd-analyze, systemd.pc)
  command -v systemd-analyze
  [ -n "$unitdir" ]
  # verify looks for the programs on this machine: give it copies of the
  # units whose program paths go into the DESTDIR (same file names).
  mkdir -p "$root.verify"
  for prog in hazgate hazgate-tracker; do
    sed "s|=$bindir/|=$root$bindir/|" "$root$unitdir/$prog.service" >"$root.verify/$prog.service"
  done
  run systemd-analyze verify --man=no --generators=no \
    "$root.verify/hazgate.service" "$root.verify/hazgate-tracker.service"
  rm -rf "$root.verify"
  echo "$output"
  [ "$status" -eq 0 ]
  [ -z "$output" ]
}

@test "the retention unit runs the installed hazgate-ctl on the gateway's configuration, daily by its timer" {
  [ -n "$unitdir" ]   # systemd.pc: scripts/install-deps installs systemd
  unit=$root$unitdir/hazgate-retention.service
  [ -f "$unit" ] && [ -f "$root$unitdir/hazgate-retention.timer" ]
  [ -z "$(grep -n '@[a-z]*@' "$unit")" ]
  start=$(execline "$unit" ExecStart)
  [ "$start" = "$bindir/hazgate-ctl retention run --config $sysconfdir/hazgate/hazgate.conf" ]
  [ -x "$root${start%% *}" ]
  grep -qx 'Type=oneshot' "$unit"
  grep -qx 'OnCalendar=\*-\*-\* 00:30:00 UTC' "$root$unitdir/hazgate-retention.timer"
  command -v systemd-analyze
  mkdir -p "$root.verify"
  sed "s|=$bindir/|=$root$bindir/|" "$unit" >"$root.verify/hazgate-retention.service"
  cp "$root$unitdir/hazgate-retention.timer" "$root.verify/"
  run systemd-analyze verify --man=no --generators=no \
    "$root.verify/hazgate-retention.service" "$root.verify/hazgate-retention.timer"
  rm -rf "$root.verify"
  echo "$output"
  [ "$status" -eq 0 ]
  [ -z "$output" ]
}

@test "the sample configurations and the READMEs are installed in docdir" {
  for f in examples/hazgate.conf.sample:gateway/hazgate.conf.sample \
    examples/hazgate-tracker.conf.sample:tracker/hazgate-tracker.conf.sample \
    gateway/README.md:gateway/README.md tracker/README.md:tracker/README.md; do
    echo "$root$docdir/${f%%:*}"
    cmp "$root$docdir/${f%%:*}" "$HG_SRCDIR/${f#*:}"
  done
  # nothing written in sysconfdir: a real configuration is never touched
  [ ! -e "$root$sysconfdir" ]
}

@test "make uninstall DESTDIR=... leaves no file behind" {
  hg_make -s uninstall DESTDIR="$root"
  run find "$root" ! -type d
  echo "$output"
  [ "$status" -eq 0 ]
  [ -z "$output" ]
}
