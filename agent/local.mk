sbin_PROGRAMS += agent/blagent
agent_blagent_SOURCES = agent/main.c
