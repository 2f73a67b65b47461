# blctl
