# A private Samba server for the end-to-end tests: one folder shared as "hot", the
# way a prepress workstation sees the printer's hot folder.  Source after lib.sh.
# The kernel here has no CIFS client, so tests drive the share with smbclient.
#
# smbd runs as root (CI) or as a normal user; `force user` is whoever runs the test,
# so the files it writes belong to the test.  Two things make the normal user work:
# the guest account stays the default (nobody), because Samba gives the guest
# account's uid the Guest SID, which would not match the session's own Unix SID and
# so deny every write; and nothing else needs root once no uid switch is wanted.
# Everything smbd writes, logs included (-l), lives under $T/smb.

SMB_PID='' SMB_PORT=''

# _smb_port_free PORT: nothing listens on 127.0.0.1:PORT.  A bind with SO_REUSEADDR,
# as smbd does it, so that old TIME_WAIT connections do not count (python3 is a
# test dependency already; ss is not always installed).
_smb_port_free() {
	/usr/bin/python3 -c 'import socket,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null
}

# smb_global DIR PORT GUEST: the [global] section of a loopback smbd whose files
# live under DIR, listening on PORT; GUEST is its "map to guest" (Never, Bad User)
smb_global() {
	cat <<EOF
[global]
	server role = standalone server
	map to guest = $3
	smb ports = $2
	interfaces = 127.0.0.1
	bind interfaces only = yes
	disable netbios = yes
	load printers = no
	printing = bsd
	printcap name = /dev/null
	disable spoolss = yes
	private dir = $1/private
	lock directory = $1/lock
	state directory = $1/state
	cache directory = $1/cache
	pid directory = $1/pid
	ncalrpc dir = $1/ncalrpc
	max log size = 0
	unix extensions = no
EOF
}

# smb_start DIR: serve DIR as //127.0.0.1/hot on the first free port from 4450
# (exported as SMB_PORT); wait at most 20 s until a listing works.
smb_start() {
	_sd=$T/smb
	mkdir -p "$_sd/private" "$_sd/lock" "$_sd/state" "$_sd/cache" "$_sd/pid" "$_sd/ncalrpc"
	SMB_PORT=4450
	while ! _smb_port_free "$SMB_PORT"; do
		SMB_PORT=$((SMB_PORT + 1))
		[ "$SMB_PORT" -lt 4500 ] || { echo "# no free port for smbd in 4450-4499"; return 1; }
	done
	export SMB_PORT
	# the job files are group-shared on the printer's server; no printers, no
	# NetBIOS, and no symlink may lead out of the share
	{
		smb_global "$_sd" "$SMB_PORT" "Bad User"
		cat <<EOF
[hot]
	path = $1
	guest ok = yes
	guest only = yes
	read only = no
	force user = $(id -un)
	create mask = 0660
	directory mask = 2770
	force directory mode = 2000
	wide links = no
	follow symlinks = yes
	hide dot files = yes
EOF
	} >"$_sd/smb.conf"
	# not --no-process-group: on SIGTERM smbd does kill(0, SIGTERM), which would
	# take down the test and tests/run with it; in its own group it only ends its own
	smbd -s "$_sd/smb.conf" -l "$_sd" --foreground </dev/null >>"$_sd/log.smbd" 2>&1 &
	SMB_PID=$!
	_end=$(($(date +%s) + 20))
	# a dead smbd's port may be another server's: look first, and do not let a
	# listener that never answers hold up the bounded wait
	while kill -0 "$SMB_PID" 2>/dev/null && [ "$(date +%s)" -lt "$_end" ]; do
		timeout 2 smbclient //127.0.0.1/hot -p "$SMB_PORT" -N -c ls >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	echo "# smbd did not come up on port $SMB_PORT; its log:"
	tail -30 "$_sd/log.smbd" | sed 's/^/# /'
	smb_stop
	return 1
}

# smb_stop: stop smbd, and the samba-dcerpcd (with its rpcd_* workers) that the first
# share listing (smbclient -L) starts detached in a session of its own; safe to call
# twice, and from an EXIT trap.  Both name $T/smb/smb.conf on their command line;
# pgrep -f skips zombies (no command line), so the wait ends once they have exited.
smb_stop() {
	[ -d "$T/smb" ] || return 0
	_pids=$(pgrep -f "$T/smb/")
	[ -z "$_pids" ] || kill -TERM $_pids 2>/dev/null
	_end=$(($(date +%s) + 10))
	while _pids=$(pgrep -f "$T/smb/") && [ "$(date +%s)" -lt "$_end" ]; do
		sleep 0.05
	done
	[ -z "$_pids" ] || kill -KILL $_pids 2>/dev/null
	[ -z "$SMB_PID" ] || wait "$SMB_PID" 2>/dev/null
	SMB_PID=
}

# smbc CMD: run smbclient commands (separated by ;) on the share; its output on
# stdout.  smbclient's exit code is that of the last command only, and is 0 after
# some failures (mkdir of an existing folder, an unknown command), so an error
# message anywhere in the output fails too.
smbc() {
	_o=$(smbclient "//127.0.0.1/hot" -p "$SMB_PORT" -N -c "$1" 2>&1)
	_rc=$?
	printf '%s\n' "$_o"
	[ "$_rc" -eq 0 ] || return "$_rc"
	case $_o in *NT_STATUS_* | *": command not found"*) return 1 ;; esac
}

# smb_get REMOTE LOCAL and smb_put LOCAL REMOTE; REMOTE may name a folder (1001-1-press/job.xml)
smb_get() { smbc "get \"$1\" \"$2\""; }
smb_put() { smbc "put \"$1\" \"$2\""; }

# lib.sh's cleanup, with smbd stopped first so that it does not outlive the test
trap 'smb_stop; kill_spoold; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
