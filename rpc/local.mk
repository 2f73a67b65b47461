# rpc
