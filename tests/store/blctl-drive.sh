#!/bin/bash
# `blctl drive` on a temporary store: every command, --json output, mount
# locks held by another process, broken drives, and every usage error
# exiting 2 with a message while writing nothing.
set -u

BLCTL=${BLCTL:-$top_builddir/blctl/blctl}
T=$(mktemp -d /tmp/blctl-drive.XXXXXX)
S=$T/store
HOLDER=
cleanup() {
	[ -n "$HOLDER" ] && kill "$HOLDER" 2>/dev/null && wait "$HOLDER" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
is() { # name got want
	if [ "$2" = "$3" ]; then ok "$1"; else notok "$1" "expected: $3" "got:      $2"; fi
}
like() { # name text regex
	if printf '%s' "$2" | grep -Eq -- "$3"; then ok "$1"; else notok "$1" "expected to match: $3" "got: $2"; fi
}

# run ARGS...: sets $out, $err, $rc
run() {
	out=$("$BLCTL" "$@" 2>"$T/stderr")
	rc=$?
	err=$(cat "$T/stderr")
}
d() { run drive --store "$S" "$@"; }
j() { printf '%s' "$out" | jq -r "$1" 2>&1; }

if ! [ -x "$BLCTL" ]; then
	echo "1..1"
	echo "not ok 1 - blctl_is_built: $BLCTL is missing"
	exit 1
fi

# --- create
d create alpha --display-name "Alpha Drive" --label env=dev --label team=x \
	--permission 'team=backend:read:/shared' --permission 'team=ml,env=prod'
is "create_exits_0" "$rc" 0
like "create_shows_the_drive" "$out" "^name: +alpha"
like "create_shows_rules" "$out" "1\. team=backend: read at /shared"
[ -f "$S/drives/alpha/drive.json" ] && [ -d "$S/drives/alpha/data" ] &&
	[ -d "$S/drives/alpha/mounts" ] && ok "create_lays_out_the_drive" ||
	notok "create_lays_out_the_drive" "$(find "$S")"
is "drive_json_is_valid_json_with_the_name" \
	"$(jq -r .name "$S/drives/alpha/drive.json")" alpha

run --json drive --store "$S" create beta
is "create_json_exits_0" "$rc" 0
is "create_json_name" "$(j .name)" beta
is "create_json_display_name_defaults_to_name" "$(j .display_name)" beta
is "create_json_labels_empty" "$(j '.labels | length')" 0
is "create_json_permissions_empty" "$(j '.permissions | length')" 0
is "create_json_access_mode_defaults_to_rwx" "$(j .access_mode)" RWX
is "drive_json_leaves_rwx_out" "$(jq -r 'has("access_mode")' "$S/drives/beta/drive.json")" false
like "create_json_created_at_rfc3339" "$(j .created_at)" \
	'^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$'

d create alpha
is "create_existing_exits_1" "$rc" 1
like "create_existing_says_so" "$err" '^blctl: drive create alpha: drive "alpha" already exists in '

# --- get
d get alpha --json
is "get_json_after_command_exits_0" "$rc" 0
is "get_json_display_name" "$(j .display_name)" "Alpha Drive"
is "get_json_labels" "$(j '.labels | to_entries | map("\(.key)=\(.value)") | join(",")')" "env=dev,team=x"
is "get_json_rule_count" "$(j '.permissions | length')" 2
is "get_json_rule1" "$(j '.permissions[0] | "\(.labels.team) \(.mode) \(.path)"')" "backend read /shared"
is "get_json_rule2_defaults" "$(j '.permissions[1] | "\(.labels.team) \(.labels.env) \(.mode) \(.path)"')" "ml prod read-write /"
run --json drive --store "$S" get alpha
is "get_json_before_drive_is_the_same" "$(j .name)" alpha
d get alpha
like "get_human_labels" "$out" "labels: +env=dev"
like "get_human_mounts" "$out" "mounts: +0"
like "get_human_access_mode" "$out" "access mode: +RWX \(any number of mounts\)"
like "get_human_second_rule" "$out" "2\. team=ml,env=prod: read-write at /"
d get beta
like "get_human_no_rules" "$out" "permissions: +none \(any workload may mount\)"
d get nope
is "get_missing_exits_1" "$rc" 1
is "get_missing_message" "$err" "blctl: drive get nope: no such drive \"nope\" in $S"

# --- list
d list
is "list_exits_0" "$rc" 0
like "list_has_a_header" "$(printf '%s\n' "$out" | head -1)" "^NAME +DISPLAY NAME +LABELS +KIND +ACCESS +RULES +MOUNTS$"
like "list_shows_alpha" "$out" "alpha +Alpha Drive +env=dev,team=x +drive +RWX +2 +0"
like "list_shows_beta" "$out" "beta +beta +- +drive +RWX +0 +0"
d --json list
is "list_json_is_an_array_of_drives" "$(j 'map(.name) | join(",")')" "alpha,beta"

# --- update
d update alpha --display-name "Renamed" --label team=y --label new=1 --remove-label env --json
is "update_exits_0" "$rc" 0
is "update_display_name" "$(j .display_name)" Renamed
is "update_labels" "$(j '.labels | to_entries | map("\(.key)=\(.value)") | join(",")')" "team=y,new=1"
is "update_keeps_rules_unless_given" "$(j '.permissions | length')" 2
d update alpha --permission 'a=b:read' --json
is "update_permission_replaces_all_rules" "$(j '.permissions | map(.labels.a) | join(",")')" "b"
d update alpha --clear-permissions --json
is "update_clear_permissions" "$(j '.permissions | length')" 0
d get alpha --json
is "update_is_on_disk" "$(j .display_name)" Renamed
d update nope --label a=b
is "update_missing_exits_1" "$rc" 1
like "update_missing_message" "$err" '^blctl: drive update nope: no such drive'
ls -a "$S/drives/alpha" | grep -q '^\.drive\.json' &&
	notok "update_leaves_no_temp_file" "$(ls -a "$S/drives/alpha")" ||
	ok "update_leaves_no_temp_file"

# --- access modes
d create solo --access-mode rwo
is "create_rwo_exits_0" "$rc" 0
like "create_rwo_shows_it" "$out" "access mode: +RWO \(one mount at a time\)"
is "create_rwo_is_in_drive_json" "$(jq -r .access_mode "$S/drives/solo/drive.json")" RWO
d create readers --access-mode ROX --json
is "create_rox_any_case" "$(j .access_mode)" ROX
d list
like "list_shows_rwo" "$out" "solo +solo +- +drive +RWO +0 +0"
like "list_shows_rox" "$out" "readers +readers +- +drive +ROX +0 +0"
d --json list
is "list_json_access_modes" "$(j 'map("\(.name)=\(.access_mode)") | join(",")')" "alpha=RWX,beta=RWX,readers=ROX,solo=RWO"
d update solo --access-mode rox --json
is "update_access_mode" "$(j .access_mode)" ROX
d update solo --access-mode rwx --label k=v --json
is "update_access_mode_with_a_label" "$(j '"\(.access_mode) \(.labels.k)"')" "RWX v"
is "update_to_rwx_leaves_it_out_of_drive_json" "$(jq -r 'has("access_mode")' "$S/drives/solo/drive.json")" false
# Two mounts held (as two blfs would hold them): RWO is refused.
mkdir -p "$S/drives/solo/mounts"
python3 - "$S/drives/solo/mounts" "$T/ready2" <<'EOF' &
import fcntl, os, struct, sys, time
for sid in ("held-1", "held-2"):
    fd = os.open(os.path.join(sys.argv[1], sid + ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.fcntl(fd, fcntl.F_OFD_SETLK, struct.pack("hhqqi4x", fcntl.F_RDLCK, 0, 0, 0, 0))
open(sys.argv[2], "w").close()
time.sleep(60)
EOF
HOLDER=$!
for _ in $(seq 100); do [ -e "$T/ready2" ] && break; sleep 0.05; done
before_solo=$(cat "$S/drives/solo/drive.json")
d update solo --access-mode rwo
is "update_to_rwo_while_mounted_twice_exits_1" "$rc" 1
like "update_to_rwo_while_mounted_twice_says_why" "$err" '^blctl: drive update solo: drive "solo" is mounted 2 times \(sessions held-[12], held-[12]\); RWO allows one'
is "update_to_rwo_refused_changes_nothing" "$(cat "$S/drives/solo/drive.json")" "$before_solo"
d update solo --access-mode rox
is "update_to_rox_while_mounted_applies_to_later_mounts" "$(jq -r .access_mode "$S/drives/solo/drive.json")" ROX
kill "$HOLDER"; wait "$HOLDER" 2>/dev/null; HOLDER=
d update solo --access-mode rwo
is "update_to_rwo_once_unmounted" "$(jq -r .access_mode "$S/drives/solo/drive.json")" RWO
# Edited by hand into the wrong type or value: refused, naming the field.
cp "$S/drives/solo/drive.json" "$T/solo.json"
for bad in 1 null '"rwo"' '"single"' '["RWO"]'; do
	jq --argjson v "$bad" '.access_mode = $v' "$T/solo.json" > "$S/drives/solo/drive.json"
	d get solo
	if [ "$rc" = 1 ] && printf '%s' "$err" | grep -q 'drives/solo/drive.json: field "access_mode": '; then
		ok "get_refuses_access_mode_$bad"
	else
		notok "get_refuses_access_mode_$bad" "rc=$rc" "$err"
	fi
done
d update solo --label a=b
like "update_refuses_a_broken_access_mode" "$rc $err" '^1 .*field "access_mode"'
is "update_of_a_broken_drive_changes_nothing" "$(jq -c .access_mode "$S/drives/solo/drive.json")" '["RWO"]'
cp "$T/solo.json" "$S/drives/solo/drive.json"
d delete solo
d delete readers

# --- mounts: a lock held by another process blocks delete
mkdir -p "$S/drives/beta/mounts"
python3 - "$S/drives/beta/mounts/sess-9.lock" "$T/ready" <<'EOF' &
import fcntl, os, struct, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
fcntl.fcntl(fd, fcntl.F_OFD_SETLK, struct.pack("hhqqi4x", fcntl.F_RDLCK, 0, 0, 0, 0))
open(sys.argv[2], "w").close()
time.sleep(60)
EOF
HOLDER=$!
for _ in $(seq 100); do [ -e "$T/ready" ] && break; sleep 0.05; done
d get beta
like "get_counts_an_active_mount" "$out" "mounts: +1"
d list
like "list_counts_an_active_mount" "$out" "beta +beta +- +drive +RWX +0 +1"
d delete beta
is "delete_mounted_exits_1" "$rc" 1
is "delete_mounted_names_the_session" "$err" "blctl: drive delete beta: drive \"beta\" is mounted (session sess-9)"
[ -f "$S/drives/beta/drive.json" ] && ok "delete_mounted_keeps_the_drive" || notok "delete_mounted_keeps_the_drive"
kill "$HOLDER"; wait "$HOLDER" 2>/dev/null; HOLDER=
[ -e "$S/drives/beta/mounts/sess-9.lock" ] && ok "a_dead_holder_leaves_a_stale_lock_file" ||
	notok "a_dead_holder_leaves_a_stale_lock_file"
d get beta
like "stale_lock_is_not_a_mount" "$out" "mounts: +0"
d delete beta
is "delete_with_stale_lock_exits_0" "$rc" 0
is "delete_says_so" "$out" "deleted drive beta"
[ -e "$S/drives/beta" ] && notok "delete_removes_the_drive" || ok "delete_removes_the_drive"
d delete beta
is "delete_missing_exits_1" "$rc" 1
like "delete_missing_message" "$err" '^blctl: drive delete beta: no such drive'

# --- a hand-broken drive
d create gamma
printf '{"name": "gamma", "created_at": "2025-01-01T00:00:00Z", "colour": "red"}' > "$S/drives/gamma/drive.json"
d get gamma
is "get_broken_exits_1" "$rc" 1
like "get_broken_names_file_and_field" "$err" "drives/gamma/drive.json: unknown field \"colour\""
d list
is "list_with_broken_exits_0" "$rc" 0
like "list_shows_broken" "$out" "gamma +broken: .*unknown field"
d --json list
is "list_json_broken_entry" "$(j '.[] | select(.name == "gamma") | .error.code')" EIO
is "list_json_still_lists_good_drives" "$(j '[.[] | select(.error == null)] | length')" 1
d delete gamma --json
is "delete_broken_exits_0" "$rc" 0
is "delete_json" "$(j .deleted)" true

# --- help
for c in "" create list get update delete; do
	run drive $c --help
	if [ "$rc" = 0 ] && printf '%s' "$out" | grep -q '^usage: blctl'; then
		ok "help_${c:-drive}_prints_usage"
	else
		notok "help_${c:-drive}_prints_usage" "rc=$rc" "$out$err"
	fi
done

# --- usage errors: exit 2, a message naming what was wrong, nothing written
snapshot() { (cd "$S" && find . -printf '%p %s\n' | sort && cat drives/*/drive.json) | md5sum; }
before=$(snapshot)
N=$T/never	# a store that must never be created
sixty_five=$(for i in $(seq 65); do printf -- '--label k%d=v ' "$i"; done)
while IFS='|' read -r name want args; do
	eval "set -- $args"
	run "$@"
	if [ "$rc" = 2 ] && printf '%s' "$err" | grep -Eq -- "$want"; then
		ok "usage_$name"
	else
		notok "usage_$name" "args: $args" "rc=$rc (want 2)" "stderr: $err" "want: $want"
	fi
done <<EOF
no_command|no command given|drive --store "$S"
unknown_command|unknown command "frob"|drive --store "$S" frob
unknown_drive_option|unknown option --bogus|drive --bogus list
store_without_path|--store needs a path|drive --store
create_no_name|no drive name given|drive --store "$N" create
create_bad_name|drive name "Bad_Name" must be a DNS label|drive --store "$N" create Bad_Name
create_leading_dash|unknown option|drive --store "$N" create -abc
create_long_name|longer than 63|drive --store "$N" create aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
create_two_names|unexpected argument "b"|drive --store "$N" create a b
create_unknown_option|unknown option --frob|drive --store "$N" create a --frob
create_label_no_value|--label "novalue": expected K=V|drive --store "$N" create a --label novalue
create_label_empty_key|label key is empty|drive --store "$N" create a --label =v
create_label_empty_value|label "k" has an empty value|drive --store "$N" create a --label k=
create_label_twice|label "k" given twice|drive --store "$N" create a --label k=1 --label k=2
create_label_control|control character|drive --store "$N" create a --label "\$(printf 'k=a\tb')"
create_65_labels|more than 64 labels|drive --store "$N" create a $sixty_five
create_label_missing_arg|--label needs a value|drive --store "$N" create a --label
create_display_name_empty|display_name is empty|drive --store "$N" create a --display-name ""
create_display_name_twice|--display-name given twice|drive --store "$N" create a --display-name x --display-name y
create_permission_bad_mode|mode "write" must be read or read-write|drive --store "$N" create a --permission k=v:write
create_permission_no_labels|permission 1: no labels|drive --store "$N" create a --permission :read
create_permission_relative_path|permission 1: path|drive --store "$N" create a --permission k=v:read:rel
create_four_permissions|at most 3 rules|drive --store "$N" create a --permission a=1 --permission b=2 --permission c=3 --permission d=4
create_remove_label_not_allowed|create does not take --remove-label|drive --store "$N" create a --remove-label k
list_extra_argument|unexpected argument "x"|drive --store "$S" list x
list_label_not_allowed|list does not take --label|drive --store "$S" list --label a=b
get_no_name|no drive name given|drive --store "$S" get
get_bad_name|must be a DNS label|drive --store "$S" get ../alpha
delete_no_name|no drive name given|drive --store "$S" delete
delete_bad_name|must be a DNS label|drive --store "$S" delete ALPHA
delete_two_names|unexpected argument|drive --store "$S" delete alpha beta
update_nothing|nothing to update|drive --store "$S" update alpha
update_contradiction|contradict|drive --store "$S" update alpha --permission a=b --clear-permissions
update_set_and_remove|label "k" is both set and removed|drive --store "$S" update alpha --label k=v --remove-label k
update_remove_bad_key|label key "a=b"|drive --store "$S" update alpha --remove-label a=b
update_bad_permission|permission 1|drive --store "$S" update alpha --permission nolabels
create_access_mode_unknown|access mode "rw" is not one of rwx, rwo, rox|drive --store "$N" create a --access-mode rw
create_access_mode_empty|access mode "" is not one of|drive --store "$N" create a --access-mode ""
create_access_mode_twice|--access-mode given twice|drive --store "$N" create a --access-mode rwo --access-mode rwx
create_access_mode_missing_arg|--access-mode needs a value|drive --store "$N" create a --access-mode
update_access_mode_unknown|access mode "single" is not one of|drive --store "$S" update alpha --access-mode single
list_access_mode_not_allowed|list does not take --access-mode|drive --store "$S" list --access-mode rwo
EOF
is "usage_errors_wrote_nothing_to_the_store" "$(snapshot)" "$before"
[ -e "$N" ] && notok "usage_errors_never_created_a_store" || ok "usage_errors_never_created_a_store"

# A store error (not usage) is exit 1.
run drive --store "$T/missing" list
is "list_missing_store_exits_1" "$rc" 1
is "list_missing_store_message" "$err" "blctl: drive list: store $T/missing does not exist"

# A store of a kind this build has no code for is refused by name.
run drive --store nfs:server/blagent list
is "unknown_store_kind_exits_1" "$rc" 1
like "unknown_store_kind_is_named" "$err" 'no store kind "nfs" in this build'

echo "1..$n"
[ "$failed" = 0 ]
