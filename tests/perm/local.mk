# tests/perm
