# The results of attempts made inside a jail, as TAP (source after
# tests/lib.sh). An inside script prints one line per attempt,
# "R<TAB>name<TAB>expect<TAB>got", and END last. expect is "fail" (any
# answer but ok), "EROFS" (that errno), "ok" (a control that must
# succeed) or the exact answer.
#
# attempt_results UID FILE
attempt_results() {
	_u=$1 _f=$2
	_tab=$(printf '\t')
	while IFS=$_tab read -r tag name expect got; do
		[ "$tag" = R ] || continue
		case $expect in
		fail)	case $got in
			ok|ok\ *) not_ok "uid$_u: $name: SUCCEEDED ($got)" ;;
			"")	not_ok "uid$_u: $name: no answer" ;;
			*)	ok "uid$_u: $name: $got" ;;
			esac ;;
		EROFS)	case $got in
			*EROFS*) ok "uid$_u: $name: $got" ;;
			*)	not_ok "uid$_u: $name: expected EROFS, got '$got'" ;;
			esac ;;
		ok)	case $got in
			ok|ok\ *) ok "uid$_u: $name: ok (control)" ;;
			*)	not_ok "uid$_u: $name: control failed: '$got'" ;;
			esac ;;
		*)	is "uid$_u: $name: $got" "$got" "$expect" ;;
		esac
	done < "$_f"
	is "uid${_u}_reached_the_last_attempt" "$(tail -1 "$_f")" END
	diag "uid$_u: $(grep -c "^R$_tab" "$_f") attempts and controls inside"
}
