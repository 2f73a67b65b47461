noinst_LIBRARIES += common/libcommon.a
common_libcommon_a_SOURCES = \
	common/log.c common/log.h \
	common/xmalloc.c common/xmalloc.h \
	common/util.c common/util.h \
	common/labels.c common/labels.h
