# A private GlusterFS volume on loopback for the tests of several nodes on one spool
# (issue 15): glusterd with its own working folders under $T/gl, one brick under $T,
# the volume mounted twice over FUSE at $GL_M1 and $GL_M2, as two hosts would mount
# it.  Source after lib.sh; it needs root, /dev/fuse and port 24007 (so two such
# tests cannot run at once).  The recipe is in shared/DEPENDENCIES.md.  Every wait
# is bounded.
#
# Measured here (GlusterFS 10.3, a distribute volume of one brick on ext4, the options
# below, the two FUSE mounts of one host; gl_facts prints them):
# - statfs f_type of a mount: 0x65735546 (FUSE; stat -f -c %T says "fuseblk")
# - flock(2) held through one mount makes `flock -n` through the other fail (EAGAIN),
#   and is free at once after the holder is killed with SIGKILL
# - fcntl locks (lockf) exclude across the two mounts too: EAGAIN through the other
# - link() through one mount onto a name made through the other fails with EEXIST
# - a small file rewritten in place through one mount at the same size (run/leader
#   "a 19173" then "b 19186") is STALE through the other mount: its page cache keeps
#   the old bytes, on new opens too, for seconds.  A new size, a file renamed over
#   it, or a mount with direct-io-mode=enable reads fresh.  So read another node's
#   files only if they are replaced by rename (or change size), never rewritten
# - a rename takes about 1.8 ms; `spoolctl submit` of a POS order about 95 ms, one
#   at a time (about 10 ms on ext4)

GL_DIR=$T/gl
GL_M1=$GL_DIR/m1
GL_M2=$GL_DIR/m2
GL_VOL=V
GL_PID=

# gl CMD...: the gluster command line, talking to our glusterd only, at most 60 s
gl() {
	timeout 60 gluster --mode=script --glusterd-sock="$GL_DIR/run/glusterd.socket" \
	    --log-file="$GL_DIR/log/cli.log" "$@"
}

# _gl_port_free: nothing listens on port 24007 (glusterd's fixed management port;
# python3 is a test dependency already, ss is not always installed)
_gl_port_free() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", 24007))' 2>/dev/null
}

# gl_why_not: why the GlusterFS tests cannot run here, or nothing
gl_why_not() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "not root (glusterd and FUSE mounts need root)"
		return
	fi
	if [ ! -c /dev/fuse ]; then
		echo "no /dev/fuse"
		return
	fi
	for _b in glusterd gluster mount.glusterfs; do
		if ! command -v "$_b" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$_b" ] && [ ! -x "/sbin/$_b" ]; then
			echo "no $_b (Debian: glusterfs-server, glusterfs-client)"
			return
		fi
	done
	_gl_port_free || echo "port 24007 is busy (another glusterd?)"
}

# _gl_wait SECONDS COMMAND...: run COMMAND every 0.1 s until it succeeds, at most SECONDS
_gl_wait() {
	_gw_end=$(($(date +%s) + $1))
	shift
	while ! "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$_gw_end" ] || return 1
		sleep 0.1
	done
}

# _gl_fail MESSAGE: say why gl_start failed, with the end of glusterd's log
_gl_fail() {
	echo "# gl_start: $1"
	tail -15 "$GL_DIR/log/glusterd.log" 2>/dev/null | sed 's/^/#   /'
	return 1
}

# _gl_mounted DIR: DIR is a FUSE mount point now
_gl_mounted() { [ "$(stat -f -c %t "$1" 2>/dev/null)" = 65735546 ] && mountpoint -q "$1"; }

# gl_start: glusterd, volume V on a brick under $T, mounted at $GL_M1 and $GL_M2
gl_start() {
	PATH=$PATH:/usr/sbin:/sbin
	mkdir -p "$GL_DIR/wd" "$GL_DIR/run" "$GL_DIR/log" "$GL_DIR/brick" "$GL_M1" "$GL_M2"
	cat >"$GL_DIR/glusterd.vol" <<EOF
volume management
    type mgmt/glusterd
    option working-directory $GL_DIR/wd
    option run-directory $GL_DIR/run
    option glusterd-sockfile $GL_DIR/run/glusterd.socket
    option transport-type socket
    option transport.socket.listen-port 24007
    option transport.address-family inet
end-volume
EOF
	# -N: in the foreground, so that $! is glusterd itself
	glusterd -N -f "$GL_DIR/glusterd.vol" -p "$GL_DIR/glusterd.pid" -l "$GL_DIR/log/glusterd.log" \
	    </dev/null >/dev/null 2>&1 &
	GL_PID=$!
	_gl_wait 30 gl volume list || _gl_fail "glusterd did not answer within 30 s" || return 1
	# 127.0.0.1 is refused even with force; 127.0.0.2 is loopback too.  force: the
	# brick is on the root file system
	gl volume create "$GL_VOL" "127.0.0.2:$GL_DIR/brick/b" force >"$GL_DIR/log/cli" 2>&1 ||
	    _gl_fail "volume create: $(cat "$GL_DIR/log/cli")" || return 1
	# what one mount writes must be what the other reads at once: no client-side
	# caching of data or metadata, no delayed writes or opens
	for _o in stat-prefetch quick-read io-cache read-ahead write-behind open-behind readdir-ahead; do
		gl volume set "$GL_VOL" "performance.$_o" off >"$GL_DIR/log/cli" 2>&1 ||
		    _gl_fail "volume set performance.$_o off: $(cat "$GL_DIR/log/cli")" || return 1
	done
	gl volume set "$GL_VOL" performance.md-cache-timeout 0 >"$GL_DIR/log/cli" 2>&1 ||
	    _gl_fail "volume set performance.md-cache-timeout 0: $(cat "$GL_DIR/log/cli")" || return 1
	gl volume start "$GL_VOL" >"$GL_DIR/log/cli" 2>&1 ||
	    _gl_fail "volume start: $(cat "$GL_DIR/log/cli")" || return 1
	for _m in "$GL_M1" "$GL_M2"; do
		# the kernel caches no attributes, names or missing names either; the
		# client's log stays under $T, not in /var/log/glusterfs
		timeout 60 mount -t glusterfs \
		    -o "attribute-timeout=0,entry-timeout=0,negative-timeout=0,log-file=$GL_DIR/log/${_m##*/}.log" \
		    "127.0.0.2:/$GL_VOL" "$_m" >"$GL_DIR/log/cli" 2>&1 ||
		    _gl_fail "mount $_m: $(cat "$GL_DIR/log/cli")" || return 1
		_gl_wait 30 _gl_mounted "$_m" || _gl_fail "$_m is not a FUSE mount within 30 s" || return 1
	done
	# the brick may come up a moment after the mount: wait until a file made
	# through one mount is seen through the other
	_gl_wait 30 touch "$GL_M1/.gl-probe" || _gl_fail "cannot write to $GL_M1 within 30 s" || return 1
	_gl_wait 30 test -f "$GL_M2/.gl-probe" || _gl_fail "$GL_M2 does not see $GL_M1's file within 30 s" || return 1
	rm -f "$GL_M1/.gl-probe"
	# the brick's socket lives outside $T, under a hashed name: keep it for gl_stop
	_bp=$(cat "$GL_DIR"/run/vols/"$GL_VOL"/*.pid 2>/dev/null)
	[ -z "$_bp" ] || tr '\0' '\n' <"/proc/$_bp/cmdline" 2>/dev/null |
	    sed -n '/^-S$/{n;p;q}' >"$GL_DIR/brick-socket"
}

# _gl_pids: the processes of our volume: glusterd, the brick (glusterfsd), the FUSE
# clients and any daemon glusterd started; all of them name a path under $GL_DIR
# (or our glusterd.vol) on their command line, which no other process does
_gl_pids() { pgrep -f "$GL_DIR/" ; }

# gl_stop: unmount, stop and delete the volume, end our gluster processes and remove
# what they leave outside $T; safe to call twice, and from an EXIT trap
gl_stop() {
	[ -d "$GL_DIR" ] || return 0
	PATH=$PATH:/usr/sbin:/sbin
	for _m in "$GL_M1" "$GL_M2"; do
		if mountpoint -q "$_m" 2>/dev/null; then
			timeout 20 umount "$_m" 2>/dev/null || umount -l "$_m" 2>/dev/null
		fi
	done
	if [ -S "$GL_DIR/run/glusterd.socket" ] && [ -n "$(_gl_pids)" ]; then
		gl volume stop "$GL_VOL" force >/dev/null 2>&1
		gl volume delete "$GL_VOL" >/dev/null 2>&1
	fi
	_pids=$(_gl_pids)
	[ -z "$_pids" ] || kill -TERM $_pids 2>/dev/null
	_end=$(($(date +%s) + 10))
	while _pids=$(_gl_pids) && [ "$(date +%s)" -lt "$_end" ]; do sleep 0.1; done
	[ -z "$_pids" ] || kill -KILL $_pids 2>/dev/null
	[ -z "$GL_PID" ] || wait "$GL_PID" 2>/dev/null
	GL_PID=
	# the brick's socket (its name kept by gl_start) and its log, named after the
	# brick's path, stay behind outside $T otherwise
	_bl=$(printf '%s' "${GL_DIR#/}/brick/b" | tr / -)
	rm -f "/var/log/glusterfs/bricks/$_bl.log"*
	_bs=$(cat "$GL_DIR/brick-socket" 2>/dev/null)
	case $_bs in /var/run/gluster/*.socket | /run/gluster/*.socket) rm -f "$_bs" ;; esac
}

# gl_unmounted: neither mount is there any more, so rm -rf "$T" cannot reach into
# the volume
gl_unmounted() { ! mountpoint -q "$GL_M1" 2>/dev/null && ! mountpoint -q "$GL_M2" 2>/dev/null; }

# lib.sh's cleanup, with the volume gone first (a test that starts more replaces it)
trap 'kill_spoold; gl_stop; gl_unmounted && [ -z "${KEEP:-}" ] && rm -rf "$T"' EXIT

# gl_facts: measure, through the two mounts, what the spool relies on, and print it
# as "# " lines (the figures in the comment at the top came from here).  With
# SPOOLCTL set, also the time of one `spoolctl submit` of a POS order.
gl_facts() {
	echo "# f_type of $GL_M1: $(stat -f -c '%t (%T)' "$GL_M1")"
	: >"$GL_M1/.gl-lock"
	# flock(1) holds the lock for 3 s through one mount; a try through the other
	flock "$GL_M1/.gl-lock" -c 'sleep 3' &
	_fp=$!
	_gl_wait 5 sh -c "! flock -n '$GL_M1/.gl-lock' true" || true
	if flock -n "$GL_M2/.gl-lock" true; then _fx="no (the other mount gets it)"; else _fx=yes; fi
	wait "$_fp"
	echo "# flock excludes across the mounts: $_fx"
	/usr/bin/python3 - "$GL_M1/.gl-lock" "$GL_M2/.gl-lock" <<'PY'
import errno, fcntl, os, sys, time
a = os.open(sys.argv[1], os.O_RDWR)
fcntl.lockf(a, fcntl.LOCK_EX | fcntl.LOCK_NB)
pid = os.fork()
if pid == 0:
    b = os.open(sys.argv[2], os.O_RDWR)
    try:
        fcntl.lockf(b, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os._exit(0)
    except OSError as e:
        os._exit(1 if e.errno in (errno.EAGAIN, errno.EACCES) else 2)
_, st = os.waitpid(pid, 0)
print("# fcntl (lockf) excludes across the mounts:",
      {0: "no", 1: "yes (EAGAIN)", 2: "error"}[os.waitstatus_to_exitcode(st)])
m1, m2 = os.path.dirname(sys.argv[1]), os.path.dirname(sys.argv[2])
open(os.path.join(m1, ".gl-taken"), "w").close()
open(os.path.join(m2, ".gl-new"), "w").close()
try:
    os.link(os.path.join(m2, ".gl-new"), os.path.join(m2, ".gl-taken"))
    r = "no, it succeeded"
except OSError as e:
    r = errno.errorcode[e.errno]
print("# link() through one mount onto a name made through the other:", r)
# a small file rewritten in place through one mount, at the same size: the other
# mount's page cache keeps the old bytes (a new inode, or a new size, is seen)
f1, f2 = os.path.join(m1, ".gl-same"), os.path.join(m2, ".gl-same")
with open(f1, "w") as f:
    f.write("a 19173\n")
open(f1).read()
with open(f2, "w") as f:
    f.write("b 19186\n")
time.sleep(1.2)
print("# same-size rewrite through one mount, read through the other 1.2 s later:",
      "fresh" if open(f1).read() == "b 19186\n" else "STALE (the old content)")
os.unlink(f1)
n = 200
t0 = time.monotonic()
for i in range(n):
    os.rename(os.path.join(m1, ".gl-new" if i % 2 == 0 else ".gl-new2"),
              os.path.join(m1, ".gl-new2" if i % 2 == 0 else ".gl-new"))
t = (time.monotonic() - t0) / n
print("# rename: %.2f ms each (mean of %d)" % (t * 1e3, n))
for f in (".gl-taken", ".gl-new", ".gl-new2", ".gl-lock"):
    try:
        os.unlink(os.path.join(m1, f))
    except FileNotFoundError:
        pass
PY
	if [ -n "${SPOOLCTL:-}" ] && [ -x "$SPOOLCTL" ]; then
		"$SPOOLCTL" -d "$GL_M1/.gl-facts" init pos >/dev/null || return 1
		_t0=$(date +%s%N)
		_i=0
		while [ $_i -lt 20 ]; do
			"$SPOOLCTL" -d "$GL_M1/.gl-facts" submit --id "f$_i" "$EX/pos/3001" >/dev/null || return 1
			_i=$((_i + 1))
		done
		_t1=$(date +%s%N)
		echo "# spoolctl submit: $(awk -v t=$((_t1 - _t0)) 'BEGIN { printf "%.0f", t / 20 / 1e6 }') ms each (mean of 20, one at a time)"
		rm -rf "$GL_M1/.gl-facts"
	fi
}
