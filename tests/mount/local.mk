# tests/mount
