# pjdfstest, the POSIX filesystem test suite, as root, on a blfs mount
# made by a real agent; sourced by pjdfstest-partN.sh, which set pjd_part
# (N) and pjd_parts (how many): each runs its share of the suite's test
# files with prove -r, shares balanced by the cases each file plans, so
# that together they run the whole suite, each well within the per-test
# time limit even on a busy machine, side by side under make -j2.
#
# pjdfstest is a shared test tool kept outside this tree: its source
# comes from $PJDFSTEST_SRC (run-tests.sh sets it from the checkout it
# started in, before any copy), else from shared/pjdfstest beside the
# source tree, and it is built out of tree in the test's temporary
# directory. Goal: no failure. A failure blfs may keep is one the store's
# own filesystem fails as well: every test file with a failure on blfs
# runs again in a plain directory beside the store, and each failing case
# must fail there too. PJDFSTEST_NATIVE=all runs the whole share there
# (to measure it); PJDFSTEST_ONLY='chmod mknod ...' runs those parts of
# the suite instead (in part 1; the other parts then pass at once).
. "$top_srcdir/tests/lib.sh"
need_root
chmod 755 "$T"

src=${PJDFSTEST_SRC:-$top_srcdir/../shared/pjdfstest}
if [ ! -f "$src/pjdfstest.c" ] || [ ! -d "$src/tests" ]; then
	# As root this is CI or a developer's run: missing is a failure.
	echo "Bail out! no pjdfstest source at $src: set PJDFSTEST_SRC" \
	    "to a checkout of pjdfstest (shared/pjdfstest)"
	exit 1
fi
for tool in autoreconf prove openssl; do
	if ! command -v "$tool" >/dev/null; then
		echo "Bail out! $tool is missing (contrib/install-deps.sh)"
		exit 1
	fi
done

# Out of tree: a copy of the source (shared/ is read-only), built there.
PJD=$T/pjdfstest
start=$(date +%s)
if cp -R "$src/." "$PJD" && chmod -R u+w "$PJD" &&
    (cd "$PJD" && autoreconf -fi && ./configure -q &&
    make -s pjdfstest) >"$T/pjd-build.log" 2>&1; then
	ok "pjdfstest built out of tree in $(($(date +%s) - start)) s"
else
	not_ok "pjdfstest built out of tree"
	sed 's/^/# /' "$T/pjd-build.log" | tail -20
	tap_done
	exit 1
fi
# This part's share: every test file with the cases it plans ("1..N"
# in its text; 100 when computed), biggest first, each to the share
# with the fewest cases so far.
share() {
	(cd "$PJD/tests" && find . -name '*.t' | sed 's|^\./||' | sort |
	    while read -r f; do
		n=$(sed -n 's/^echo "1\.\.\([0-9]*\)"$/\1/p' "$f" | head -1)
		echo "$f ${n:-100}"
	    done) | sort -k2,2nr -k1,1 | awk -v me="$pjd_part" -v n="$pjd_parts" '
	{
		best = 1
		for (i = 2; i <= n; i++)
			if (load[i] < load[best])
				best = i
		load[best] += $2
		if (best == me)
			print $1
	}' | sort
}
if [ -n "${PJDFSTEST_ONLY:-}" ]; then
	files=""
	[ "$pjd_part" -eq 1 ] && files=$PJDFSTEST_ONLY
else
	files=$(share)
fi
if [ -z "$files" ]; then
	ok "part $pjd_part of $pjd_parts: nothing to run (PJDFSTEST_ONLY)"
	tap_done
	exit
fi
suite=$(for f in $files; do printf '%s ' "$PJD/tests/$f"; done)
diag "part $pjd_part of $pjd_parts:" $files
# failures LOG: "FILE:N" for each failing case of a verbose prove run
# (FILE relative to tests/), "FILE:exit" for a file that died or broke
# its plan; LOG.detail has the "not ok" lines, the command and the errno
# pjdfstest expected and got. A "not ok ... # TODO" is an expected
# failure, not one.
failures() {
	: >"$1.detail"
	awk -v dir="$PJD/tests/" -v detail="$1.detail" '
	index($0, dir) == 1 && $1 ~ /\.t$/ {
		f = substr($1, length(dir) + 1)
		next
	}
	/^Test Summary Report/ { summary = 1; next }
	summary && /^  (Non-zero exit status|Parse errors|Non-zero wait)/ {
		print f ":exit"
		next
	}
	!summary && /^not ok [0-9]+/ && !/#[ \t]*[Tt][Oo][Dd][Oo]/ {
		print f ":" $3
		print f ": " $0 >detail
	}' "$1" | sort -u
}
# counts LOG: "Files=N, Tests=N" and the wallclock of a prove run.
counts() {
	awk '/^Files=[0-9]+, Tests=[0-9]+,/ {
		sub(/ *\(.*/, "")
		gsub(/  +/, " ")
		print
	}' "$1"
}

# The drive, mounted by an agent as any drive; the root open to all
# (pjdfstest switches to other users in it), the cwd inside.
start_agent a
drive_create pjd
mkdir -p "$T/mnt"
check "the agent mounts the drive" ctl a mount pjd "$T/mnt" --wait
chmod 1777 "$T/mnt"
like "the mount is blfs's" "$(stat -f -c %T "$T/mnt")" "fuse"

start=$(date +%s)
(cd "$T/mnt" && prove -v -r $suite) >"$T/blfs.log" 2>&1
blfs_secs=$(($(date +%s) - start))
failures "$T/blfs.log" >"$T/blfs.fail"
nfail=$(wc -l <"$T/blfs.fail")
diag "blfs: $(counts "$T/blfs.log") ($blfs_secs s); $nfail failed"
like "prove ran part $pjd_part of the suite on blfs" \
    "$(counts "$T/blfs.log")" "^Files=[1-9][0-9]*, Tests=[1-9][0-9]*"
is "the mount is still mounted after the suite" \
    "$(field "$(ctl a --json status "$T/mnt")" state)" mounted
check "unmount" ctl a unmount "$T/mnt"

# The same cases natively: a directory beside the store, on its
# filesystem (ext4 in CI).
mkdir -m 1777 "$T/native"
fstype=$(findmnt -n -o FSTYPE -T "$T/native")
if [ "${PJDFSTEST_NATIVE:-}" = all ]; then
	set -- $suite
else
	set -- $(sed 's/:.*//' "$T/blfs.fail" | sort -u |
	    sed "s|^|$PJD/tests/|")
fi
: >"$T/native.fail"
if [ $# -gt 0 ]; then
	start=$(date +%s)
	(cd "$T/native" && prove -v -r "$@") >"$T/native.log" 2>&1
	diag "$fstype: $(counts "$T/native.log") ($(($(date +%s) - start)) s)"
	failures "$T/native.log" >"$T/native.fail"
fi
if [ "$nfail" -eq 0 ]; then
	ok "pjdfstest part $pjd_part of $pjd_parts on blfs: no failure" \
	    "($(counts "$T/blfs.log" | sed 's/, [0-9]* wallclock.*//'))"
else
	# Each blfs failure: a known failure of the native filesystem too,
	# or a blfs bug.
	while read -r c; do
		if grep -qxF "$c" "$T/native.fail"; then
			ok "$c fails on $fstype too"
		else
			not_ok "$c fails on blfs only"
			grep -E "^${c%%:*}: not ok ${c##*:}( |\$)" \
			    "$T/blfs.log.detail" | sed 's/^/# /'
		fi
	done <"$T/blfs.fail"
fi
if [ "$tap_failed" -ne 0 ]; then
	diag "the agent's log (blfs's too):"
	tail -20 "$T/a/log" | sed 's/^/# /'
fi
tap_done
