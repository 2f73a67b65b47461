# tests/security
