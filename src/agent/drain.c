/* SPDX-License-Identifier: MIT */
#include "agent/drain.h"

#include <time.h>

bool drain_wait(pthread_mutex_t *lock, const int *count, int ms)
{
	for (int waited = 0;; waited += 10) {
		pthread_mutex_lock(lock);
		int n = *count;
		pthread_mutex_unlock(lock);
		if (n == 0)
			return true;
		if (waited >= ms)
			return false;
		struct timespec ts = {0, 10000000};
		nanosleep(&ts, NULL);
	}
}
