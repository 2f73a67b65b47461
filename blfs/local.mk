# blfs
