#!/bin/bash
# libcrypto is mapped only by an agent given --token-key: one without has
# none of it in /proc/PID/maps, one with a key maps it and still verifies
# signed tokens (and refuses forged ones). Needs root, as every real agent
# does (it drops capabilities and makes / shared at start).
. "$top_srcdir/tests/lib.sh"
# Root only: nothing here mounts, so /dev/fuse is not needed.
if [ "$(id -u)" -ne 0 ]; then
	echo "1..0 # SKIP needs root (blagent drops capabilities at start)"
	exit 77
fi

# hs256_token SECRET_FILE LABELS_JSON: a signed JWT.
hs256_token() {
	/usr/bin/python3 - "$1" "$2" <<'EOF'
import base64, hashlib, hmac, json, sys
def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
signing = (b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()) + "." +
           b64(json.dumps({"labels": json.loads(sys.argv[2])}).encode()))
sig = hmac.new(open(sys.argv[1], "rb").read(), signing.encode(),
               hashlib.sha256).digest()
print(signing + "." + b64(sig))
EOF
}
# maps_crypto PID: the libcrypto mappings of a process, if any.
maps_crypto() {
	grep -E '/libcrypto\.so' "/proc/$1/maps" | awk '{ print $6 }' | sort -u
}
wait_log() {
	local i=0
	until grep -Eq -- "$2" "$T/$1/log"; do
		i=$((i + 1))
		[ $i -gt 100 ] && return 1
		sleep 0.05
	done
}

printf '%s' "a secret of at least thirty-two bytes, for HS256" > "$T/hs.key"
printf '%s' "another secret of thirty-two bytes or more, unknown" \
	> "$T/other.key"

start_agent plain
is "agent_without_token_key_maps_no_libcrypto" "$(maps_crypto "$AGENT_PID")" ""

mkdir -p "$T/keyed"
hs256_token "$T/hs.key" '{"team":"backend","tier":"gold"}' > "$T/keyed/token"
start_agent keyed --token-key "$T/hs.key"
like "agent_with_token_key_maps_libcrypto" "$(maps_crypto "$AGENT_PID")" \
	'libcrypto\.so'
if wait_log keyed 'token .*: 2 labels now'; then
	ok "agent_with_token_key_takes_a_signed_token"
else
	not_ok "agent_with_token_key_takes_a_signed_token: log says" \
		"'$(tail -n 3 "$T/keyed/log")'"
fi
hs256_token "$T/other.key" '{"team":"ops"}' > "$T/keyed/token.new"
mv -f "$T/keyed/token.new" "$T/keyed/token"
if wait_log keyed 'signature does not verify with the HS256 key'; then
	ok "agent_with_token_key_refuses_a_forged_token"
else
	not_ok "agent_with_token_key_refuses_a_forged_token: log says" \
		"'$(tail -n 3 "$T/keyed/log")'"
fi

# A key file that is no key: refused at start, naming the file.
err=$("$BLAGENT" --foreground --control-socket "$T/bad.c.sock" \
	--status-socket "$T/bad.s.sock" --state-dir "$T/bad.state" \
	--store "$STORE" --token-key "$T/nonexistent.key" 2>&1)
like "agent_with_missing_token_key_names_it" "$err" \
	"--token-key: token key $T/nonexistent.key: no such file"

tap_done
