# tests/blfs
