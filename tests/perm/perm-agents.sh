#!/bin/bash
# Drive permissions end to end: real agents holding different identity
# tokens mount real drives through blfs. Every row of the platform's
# behaviour table, malformed and signed tokens, token rotation while the
# agent runs, rules changed under an active mount, drive.json edited by
# hand into nonsense, and the decision each Mount logs.
. "$top_srcdir/tests/lib.sh"
need_root

# --- tokens: header.payload.signature, each part base64url
cat > "$T/mktoken.py" <<'EOF'
# mktoken.py LABELS_JSON [none|hs256 SECRET|rs256 PRIV|es256 PRIV] [CLAIMS_JSON]
import base64, hashlib, hmac, json, subprocess, sys

def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

labels = json.loads(sys.argv[1])
mode = sys.argv[2] if len(sys.argv) > 2 else "none"
key = sys.argv[3] if len(sys.argv) > 3 else None
claims = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
alg = {"none": "RS256", "hs256": "HS256", "rs256": "RS256",
       "es256": "ES256"}[mode]
payload = {"sub": "workload", "labels": labels}
payload.update(claims)
signing = (b64(json.dumps({"alg": alg, "typ": "JWT"}).encode()) + "." +
           b64(json.dumps(payload).encode()))
if mode == "none":
    # Unsigned-check mode: the signature bytes are never looked at.
    sig = b"not-checked"
elif mode == "hs256":
    sig = hmac.new(open(key, "rb").read(), signing.encode(),
                   hashlib.sha256).digest()
else:
    der = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key],
                         input=signing.encode(), capture_output=True,
                         check=True).stdout
    sig = der
    if mode == "es256":
        # DER SEQUENCE { INTEGER r, INTEGER s } -> r || s, 32 bytes each.
        i = 2 if der[1] < 0x80 else 3
        rl = der[i + 1]
        r = der[i + 2:i + 2 + rl]
        j = i + 2 + rl
        s = der[j + 2:j + 2 + der[j + 1]]
        sig = (int.from_bytes(r, "big").to_bytes(32, "big") +
               int.from_bytes(s, "big").to_bytes(32, "big"))
print(signing + "." + b64(sig))
EOF
mktoken() { /usr/bin/python3 "$T/mktoken.py" "$@"; }
# put_token NAME TOKEN: replace agent NAME's token by rename, as the
# platform rotates it.
put_token() {
	mkdir -p "$T/$1"
	printf '%s\n' "$2" > "$T/$1/token.new"
	mv -f "$T/$1/token.new" "$T/$1/token"
}
# wait_log NAME PATTERN N: until agent NAME's log has N lines matching.
wait_log() {
	local i=0
	while [ "$(grep -Ec -- "$2" "$T/$1/log")" -lt "$3" ]; do
		i=$((i + 1))
		[ $i -gt 100 ] && return 1
		sleep 0.05
	done
}
# try_mount NAME DRIVE PATH [args]: the settled state, or the error.
try_mount() {
	local name=$1 out
	shift
	if out=$(ctl "$name" --json mount "$@" --wait 2>&1); then
		field "$out" state
	else
		printf '%s\n' "$out"
	fi
}
mounted() { grep -q " $1 " /proc/self/mounts; }
not_mounted() { ! mounted "$1"; }

# --- drives
drive_create open
echo open > "$STORE/drives/open/data/o"
# The reference's example, plus an AND rule with a path.
drive_create team --permission 'team=backend' \
	--permission 'team=frontend:read:/shared' \
	--permission 'env=prod,team=ops:read-write:/ops'
D=$STORE/drives/team/data
mkdir -p "$D/shared/sub" "$D/shared2" "$D/ops"
echo top > "$D/top"
echo in-shared > "$D/shared/f"
echo in-sub > "$D/shared/sub/g"
echo sibling > "$D/shared2/h"
echo ops > "$D/ops/o"
# First match wins: rule 1 grants less than rule 2 would.
drive_create order --permission 'team=frontend:read:/shared' \
	--permission 'tier=gold'
mkdir -p "$STORE/drives/order/data/shared"
# A rule with an empty mode and an empty path: read-write on the whole
# drive (written by hand, as the platform's API may send it).
drive_create empty --permission 'team=backend'
/usr/bin/python3 - "$STORE/drives/empty/drive.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["permissions"] = [{"labels": {"team": "backend"}, "mode": "", "path": ""}]
open(sys.argv[1], "w").write(json.dumps(d))
EOF
echo e > "$STORE/drives/empty/data/e"

# --- agents with different tokens (unsigned-check mode)
INFRA='"blaxel-workspace":"ws1","blaxel-type":"sandbox","blaxel-name":"sb1"'
put_token back "$(mktoken "{\"team\":\"backend\",$INFRA}")"
put_token front "$(mktoken '{"team":"frontend"}')"
put_token ops "$(mktoken '{"env":"prod","team":"ops"}')"
put_token opsonly "$(mktoken '{"team":"ops","blaxel-type":"sandbox"}')"
put_token both "$(mktoken '{"team":"frontend","tier":"gold"}')"
put_token gold "$(mktoken '{"tier":"gold"}')"
put_token other "$(mktoken '{"team":"backend-ish","env":"prod"}')"
mkdir -p "$T/none"
for a in back front ops opsonly both gold other none; do start_agent "$a"; done

# --- no permissions on the drive: any workload, even one without a token
is "no_rules_anyone_mounts_rw" "$(try_mount none open "$T/mnt/none-open")" mounted
check "no_rules_mount_is_writable" sh -c "echo w > $T/mnt/none-open/w"
is "no_rules_with_labels_mounts_rw" "$(try_mount front open "$T/mnt/front-open")" mounted
like "no_rules_decision_logged" "$(cat "$T/none/log")" \
	"drive open: allowed read-write at / \(no permission rules\)"

# --- a rule matches: its mode and path
is "label_match_mounts_rw" "$(try_mount back team "$T/mnt/back")" mounted
is "label_match_whole_drive_visible" "$(cat "$T/mnt/back/top")" top
check "label_match_mount_is_writable" sh -c "echo b > $T/mnt/back/by-back"
is "label_match_write_lands_in_drive" "$(cat "$D/by-back")" b
like "infrastructure_labels_do_not_stop_a_match" \
	"$(grep 'drive team:' "$T/back/log")" \
	"drive team: allowed read-write at / by permission 1 \(team=backend\)"

err=$(try_mount front team "$T/mnt/front-rw")
like "read_grant_refuses_rw_mount_with_eacces" "$err" "EACCES"
like "read_grant_refusal_names_the_rule" "$err" "permission 2 \(team=frontend\) grants read only"
check "refused_mount_left_nothing_mounted" not_mounted "$T/mnt/front-rw"
like "read_grant_refusal_logged" "$(cat "$T/front/log")" \
	"drive team: denied: permission 2 \(team=frontend\) grants read only"

is "read_grant_ro_mount_succeeds" \
	"$(try_mount front team "$T/mnt/front-ro" --read-only)" mounted
is "path_grant_shows_the_granted_subtree" "$(cat "$T/mnt/front-ro/f")" in-shared
is "path_grant_shows_deeper_files" "$(cat "$T/mnt/front-ro/sub/g")" in-sub
check "path_grant_hides_files_outside" test ! -e "$T/mnt/front-ro/top"
check "path_grant_hides_the_sibling_prefix" test ! -e "$T/mnt/front-ro/shared2"
check "path_grant_hides_other_rule_paths" test ! -e "$T/mnt/front-ro/ops"
check "path_grant_root_dotdot_stays_inside" test ! -e "$T/mnt/front-ro/../top"
err=$(sh -c "echo x > $T/mnt/front-ro/f" 2>&1)
like "read_grant_write_is_erofs" "$err" "Read-only file system"
err=$(touch "$T/mnt/front-ro/new" 2>&1)
like "read_grant_create_is_erofs" "$err" "Read-only file system"
is "read_grant_left_the_file_alone" "$(cat "$D/shared/f")" in-shared
like "path_grant_decision_logged" "$(cat "$T/front/log")" \
	"drive team: allowed read at /shared by permission 2 \(team=frontend\)"

is "drive_path_inside_grant_mounts" \
	"$(try_mount front team "$T/mnt/front-sub" --read-only --drive-path /shared/sub)" mounted
is "drive_path_inside_grant_serves_that_path" "$(cat "$T/mnt/front-sub/g")" in-sub
is "drive_path_equal_to_grant_mounts" \
	"$(try_mount front team "$T/mnt/front-eq" --read-only --drive-path /shared)" mounted
for bad in /shared2 /top /ops /shared/../top; do
	err=$(try_mount front team "$T/mnt/front-out" --read-only --drive-path "$bad")
	like "drive_path_outside_grant_is_eacces: $bad" "$err" \
		"EACCES.*|grants only /shared"
done
like "drive_path_outside_names_the_grant" "$err" "grants only /shared"
check "drive_path_outside_left_nothing_mounted" not_mounted "$T/mnt/front-out"
err=$(try_mount front team "$T/mnt/front-miss" --read-only --drive-path /shared/nope)
like "drive_path_missing_inside_grant_is_enoent" "$err" "ENOENT"
check "drive_path_missing_is_never_created" test ! -e "$D/shared/nope"

# --- AND within a rule, OR across rules
is "and_rule_all_labels_match" "$(try_mount ops team "$T/mnt/ops")" mounted
is "and_rule_grants_its_path" "$(cat "$T/mnt/ops/o")" ops
check "and_rule_path_hides_the_rest" test ! -e "$T/mnt/ops/top"
check "and_rule_mount_is_writable" sh -c "echo w > $T/mnt/ops/w"
like "and_rule_decision_logged" "$(cat "$T/ops/log")" \
	"drive team: allowed read-write at /ops by permission 3 \((env=prod,team=ops|team=ops,env=prod)\)"
err=$(try_mount opsonly team "$T/mnt/opsonly" --read-only)
like "and_rule_one_label_missing_is_eacces" "$err" "EACCES"
like "no_match_says_no_rule_matches" "$err" "no permission rule"
like "no_match_logged_with_workload_labels" "$(cat "$T/opsonly/log")" \
	"drive team: denied: no permission rule .*workload labels: .*team=ops"
err=$(try_mount other team "$T/mnt/other" --read-only)
like "no_rule_matches_is_eacces" "$err" "EACCES"
err=$(try_mount none team "$T/mnt/none-team" --read-only)
like "no_token_ruled_drive_is_eacces" "$err" "EACCES"
like "no_token_logged_as_no_labels" "$(cat "$T/none/log")" \
	"drive team: denied: .*\(workload labels: none\)"

err=$(try_mount both order "$T/mnt/both-rw")
like "first_match_wins_over_a_later_grant" "$err" "EACCES"
like "first_match_refusal_names_rule_1" "$err" "permission 1 \(team=frontend\)"
is "first_match_ro_is_allowed" "$(try_mount both order "$T/mnt/both-ro" --read-only)" mounted
is "or_second_rule_alone_matches_rw" "$(try_mount gold order "$T/mnt/gold")" mounted
like "or_second_rule_logged_as_rule_2" "$(cat "$T/gold/log")" \
	"drive order: allowed read-write at / by permission 2 \(tier=gold\)"

is "empty_mode_and_path_mean_rw_whole_drive" \
	"$(try_mount back empty "$T/mnt/empty")" mounted
check "empty_mode_mount_is_writable" sh -c "echo w > $T/mnt/empty/w"
is "empty_path_serves_the_whole_drive" "$(cat "$T/mnt/empty/e")" e

# --- malformed tokens: no labels, the agent serves, the token is never logged
i=0
for tok in "not-a-jwt" "a.b" "a.b.c.d" "@@@.@@@.x" \
	"$(printf '{"alg":"RS256"}' | base64 -w0).$(printf 'nojson' | base64 -w0).x" \
	"$(mktoken '"team"')" "$(mktoken '{"team":1}')" \
	"$(mktoken '{"team":"backend"}' none '' '{"exp":"soon"}')" ""; do
	i=$((i + 1))
	put_token "bad$i" "$tok"
	start_agent "bad$i"
	like "malformed_token_$i:_refusal_logged" "$(cat "$T/bad$i/log")" "token .*/token: .*; keeping the last good labels"
	err=$(try_mount "bad$i" team "$T/mnt/bad$i" --read-only)
	like "malformed_token_$i:_ruled_drive_is_eacces" "$err" "EACCES"
	check "malformed_token_$i:_agent_answers" ctl "bad$i" ping
done
is "malformed_token_open_drive_still_mounts" \
	"$(try_mount bad1 open "$T/mnt/bad-open")" mounted
check "malformed_token_bytes_never_logged" sh -c \
	"! grep -q 'not-a-jwt\|@@@\|nojson\|bm9qc29u' $T/bad*/log"

# --- rotation while running
put_token rot "$(mktoken '{"team":"frontend"}')"
start_agent rot
err=$(try_mount rot team "$T/mnt/rot-rw0")
like "rotation_token_a_refuses_rw" "$err" "EACCES"
is "rotation_token_a_mounts_ro" "$(try_mount rot team "$T/mnt/rot-ro" --read-only)" mounted
ro_id=$(field "$(ctl rot --json status "$T/mnt/rot-ro")" mount_session_id)
put_token rot "$(mktoken "{\"team\":\"backend\",$INFRA}")"
check "rotation_to_token_b_is_noticed" wait_log rot "token .*: 4 labels now" 1
is "rotation_token_b_mounts_rw_without_restart" \
	"$(try_mount rot team "$T/mnt/rot-rw")" mounted
is "rotation_token_b_sees_whole_drive" "$(cat "$T/mnt/rot-rw/top")" top
r=$(ctl rot --json status "$ro_id")
is "rotation_left_the_ro_mount_mounted" "$(field "$r" state)" mounted
is "rotation_left_the_ro_mount_read_only" "$(field "$r" read_only)" true
is "rotation_ro_mount_still_shows_its_subtree" "$(cat "$T/mnt/rot-ro/f")" in-shared
err=$(sh -c "echo x > $T/mnt/rot-ro/f" 2>&1)
like "rotation_ro_mount_still_refuses_writes" "$err" "Read-only file system"
put_token rot "this.is-not.a-token"
check "rotation_malformed_token_c_is_refused" \
	wait_log rot "token .*: token header is not valid JSON.*; keeping the last good labels" 1
is "rotation_after_c_mounts_still_follow_b" \
	"$(try_mount rot team "$T/mnt/rot-rw2")" mounted
check "rotation_malformed_token_not_logged" sh -c "! grep -q 'this.is-not' $T/rot/log"
rm -f "$T/rot/token"
check "rotation_token_deleted_is_noticed" wait_log rot "token .*: 0 labels now" 1
err=$(try_mount rot team "$T/mnt/rot-gone" --read-only)
like "rotation_token_deleted_means_no_labels" "$err" "EACCES"
is "rotation_token_deleted_open_drive_mounts" \
	"$(try_mount rot open "$T/mnt/rot-open")" mounted
# Written in place rather than renamed: seen when the writer closes it.
mktoken '{"team":"frontend"}' > "$T/rot/token"
check "rotation_token_written_in_place_is_noticed" \
	wait_log rot "token .*: 1 labels now" 2
is "rotation_token_in_place_mounts_ro" \
	"$(try_mount rot team "$T/mnt/rot-ro2" --read-only)" mounted

# --- signed tokens
head -c 48 /dev/urandom > "$T/hs.key"
head -c 48 /dev/urandom > "$T/hs-other.key"
put_token hs "$(mktoken '{"team":"backend"}' hs256 "$T/hs-other.key")"
start_agent hs --token-key "$T/hs.key"
like "bad_signature_logged_with_the_reason" "$(cat "$T/hs/log")" \
	"token .*/token: token signature does not verify with the HS256 key; keeping the last good labels"
sig_part=$(cut -d. -f2 < "$T/hs/token")
check "bad_signature_log_never_holds_the_token" \
	sh -c "! grep -qF '$sig_part' $T/hs/log"
err=$(try_mount hs team "$T/mnt/hs-bad" --read-only)
like "bad_signature_gives_no_labels" "$err" "EACCES"
put_token hs "$(mktoken '{"team":"backend"}' hs256 "$T/hs.key" \
	"{\"exp\":$(( $(date +%s) + 3600 ))}")"
check "good_hs256_token_is_taken" wait_log hs "token .*: 1 labels now" 1
is "good_hs256_token_mounts_rw" "$(try_mount hs team "$T/mnt/hs-good")" mounted
put_token hs "$(mktoken '{"team":"frontend"}' hs256 "$T/hs.key" \
	"{\"exp\":$(( $(date +%s) - 3600 ))}")"
check "expired_token_is_refused" wait_log hs "token .*/token: token has expired; keeping" 1
put_token hs "$(printf '{"alg":"none"}' | base64 -w0 | tr -d =).$(printf '{"labels":{"team":"frontend"}}' | base64 -w0 | tr -d =)."
check "alg_none_is_refused" wait_log hs "token .*/token: token algorithm is not HS256" 1
is "refused_tokens_keep_the_last_good_labels" \
	"$(try_mount hs team "$T/mnt/hs-still")" mounted

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
	-out "$T/rs.pem" 2>/dev/null
openssl pkey -in "$T/rs.pem" -pubout -out "$T/rs.pub" 2>/dev/null
put_token rs "$(mktoken '{"team":"backend"}' rs256 "$T/rs.pem")"
start_agent rs --token-key "$T/rs.pub"
is "rs256_token_mounts_rw" "$(try_mount rs team "$T/mnt/rs")" mounted
# alg confusion: the public key's bytes as an HMAC secret.
put_token rs "$(mktoken '{"team":"frontend"}' hs256 "$T/rs.pub")"
check "hs256_token_against_rsa_key_is_refused" \
	wait_log rs "token .*/token: token algorithm is not RS256" 1
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	-out "$T/es.pem" 2>/dev/null
openssl pkey -in "$T/es.pem" -pubout -out "$T/es.pub" 2>/dev/null
put_token es "$(mktoken '{"team":"frontend"}' es256 "$T/es.pem")"
start_agent es --token-key "$T/es.pub"
is "es256_token_mounts_ro" "$(try_mount es team "$T/mnt/es" --read-only)" mounted
err=$(try_mount es team "$T/mnt/es-rw")
like "es256_token_labels_apply" "$err" "EACCES.*|grants read only"

# A key that cannot be loaded is a usage error naming the file.
printf 'short' > "$T/short.key"
printf -- '-----BEGIN PUBLIC KEY-----\nnonsense\n-----END PUBLIC KEY-----\n' > "$T/junk.pem"
for k in "$T/no-such.key" "$T/short.key" "$T/junk.pem" "$T/rs.pem"; do
	mkdir -p "$T/kx"
	err=$(timeout 10 "$BLAGENT" --foreground --control-socket "$T/kx/c.sock" \
		--status-socket "$T/kx/s.sock" --state-dir "$T/kx/state" \
		--store "$STORE" --blfs "$BLFS" --token "$T/kx/token" \
		--token-key "$k" 2>&1)
	rc=$?
	is "bad_token_key_exits_2: ${k##*/}" "$rc" 2
	like "bad_token_key_message_names_the_file: ${k##*/}" "$err" "$k"
done
check "bad_token_key_left_no_socket" test ! -e "$T/kx/c.sock"

# --- rules changed under an active mount
drive_create chg --permission 'team=backend'
echo before > "$STORE/drives/chg/data/f"
is "rules_change_first_mount" "$(try_mount back chg "$T/mnt/chg")" mounted
"$BLCTL" drive --store "$STORE" update chg --permission 'team=frontend' >/dev/null
like "rules_change_store_holds_the_new_rule" \
	"$("$BLCTL" drive --store "$STORE" --json get chg)" '"team": ?"frontend"'
is "rules_change_existing_mount_still_reads" "$(cat "$T/mnt/chg/f")" before
check "rules_change_existing_mount_still_writes" sh -c "echo after > $T/mnt/chg/f"
is "rules_change_write_lands" "$(cat "$STORE/drives/chg/data/f")" after
is "rules_change_existing_mount_still_listed" \
	"$(field "$(ctl back --json status "$T/mnt/chg")" state)" mounted
err=$(try_mount back chg "$T/mnt/chg2")
like "rules_change_new_mount_follows_new_rules" "$err" "EACCES"
is "rules_change_newly_granted_team_mounts" "$(try_mount front chg "$T/mnt/chg-front")" mounted
"$BLCTL" drive --store "$STORE" update chg --clear-permissions >/dev/null
is "clear_permissions_lets_anyone_mount" "$(try_mount none chg "$T/mnt/chg-none")" mounted
is "clear_permissions_mount_is_rw" "$(try_mount opsonly chg "$T/mnt/chg-ops")" mounted
is "rules_change_first_mount_still_reads" "$(cat "$T/mnt/chg/f")" after

# --- drive.json edited by hand into nonsense
drive_create hand --permission 'team=backend'
J=$STORE/drives/hand/drive.json
cp "$J" "$T/hand.orig"
/usr/bin/python3 - "$T/hand.orig" "$T/hand" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
r = {"labels": {"team": "backend"}}
for name, perms in [("four", [r, r, r, r]),
                    ("admin", [{"labels": {"team": "backend"}, "mode": "admin"}]),
                    ("labeltype", [{"labels": "team=backend"}]),
                    ("permtype", {"team": "backend"}),
                    ("modetype", [{"labels": {"team": "backend"}, "mode": True}]),
                    ("valuetype", [{"labels": {"team": 7}}]),
                    ("nolabels", [{"mode": "read"}]),
                    ("dotdot", [{"labels": {"team": "backend"}, "path": "/a/../.."}]),
                    ("unknown", [{"labels": {"team": "backend"}, "admin": True}])]:
    d2 = dict(d, permissions=perms)
    open(sys.argv[2] + "." + name, "w").write(json.dumps(d2))
EOF
head -c 50 "$T/hand.orig" > "$T/hand.truncated"
printf '{"name": "hand", "permissions": [' > "$T/hand.badjson"
: > "$T/hand.empty"
printf '\x00\xff\xfe garbage' > "$T/hand.binary"
for kind in truncated badjson empty binary four admin labeltype permtype \
	modetype valuetype nolabels dotdot unknown; do
	cp "$T/hand.$kind" "$J"
	err=$(try_mount back hand "$T/mnt/hand")
	like "nonsense_drive_json_refused_eio_or_einval: $kind" "$err" "(EIO|EINVAL)"
	like "nonsense_drive_json_error_names_the_file: $kind" "$err" "drive\.json"
	check "nonsense_drive_json_agent_answers_ping: $kind" ctl back ping
done
check "nonsense_drive_json_left_nothing_mounted" not_mounted "$T/mnt/hand"
is "nonsense_drive_json_other_drives_still_mount" \
	"$(try_mount back open "$T/mnt/back-open")" mounted
is "nonsense_drive_json_existing_mounts_still_serve" "$(cat "$T/mnt/back/top")" top
cp "$T/hand.orig" "$J"
is "repaired_drive_json_mounts_again" "$(try_mount back hand "$T/mnt/hand")" mounted

# --- every decision was logged: drive, labels, rule, outcome
n_mounts=$(grep -c "mount ms-[0-9a-f]* requested: drive team " "$T/front/log")
n_decisions=$(grep -c "drive team: \(allowed\|denied\)" "$T/front/log")
is "one_decision_line_per_mount_of_a_ruled_drive" "$n_decisions" "$n_mounts"
tap_done
