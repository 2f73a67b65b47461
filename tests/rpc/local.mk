# tests/rpc
