/* SPDX-License-Identifier: MIT */
#include "common/pcap_lazy.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

/* Debian's soname first, then upstream's and the development link. */
static const char *const pcap_sonames[] = {"libpcap.so.0.8", "libpcap.so.1", "libpcap.so"};

static struct pcap_lazy table;
static const struct pcap_lazy *loaded; /* the tools are single-threaded here */

/* HANDLE's symbols into T; the first one missing, or NULL. */
static const char *resolve(void *handle, struct pcap_lazy *t)
{
	/* dlsym's void * to a function pointer: POSIX guarantees it works;
	 * the memcpy keeps ISO C's object/function pointer rule. */
#define PCAP_LAZY_RESOLVE(name)                                                              \
	{                                                                                    \
		void *sym = dlsym(handle, "pcap_" #name);                                    \
		if (!sym)                                                                    \
			return "pcap_" #name;                                                \
		_Static_assert(sizeof(sym) == sizeof(t->name), "function pointer size");     \
		memcpy(&t->name, &sym, sizeof(sym));                                         \
	}
	PCAP_LAZY_FUNCS(PCAP_LAZY_RESOLVE)
#undef PCAP_LAZY_RESOLVE
	return NULL;
}

const struct pcap_lazy *pcap_lazy_load(char *why, size_t cap)
{
	if (loaded)
		return loaded;
	void *handle = NULL;
	for (size_t i = 0; !handle && i < sizeof(pcap_sonames) / sizeof(pcap_sonames[0]); i++)
		handle = dlopen(pcap_sonames[i], RTLD_NOW | RTLD_LOCAL);
	if (!handle) {
		snprintf(why, cap, "libpcap is not installed (apt-get install libpcap0.8)");
		return NULL;
	}
	const char *missing = resolve(handle, &table);
	if (missing) {
		snprintf(why, cap, "libpcap has no %s (too old a libpcap)", missing);
		dlclose(handle);
		return NULL;
	}
	loaded = &table; /* the handle stays open for the process's life */
	return loaded;
}
