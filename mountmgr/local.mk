# mountmgr
