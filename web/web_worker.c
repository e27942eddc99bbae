/*
 * web_worker.c - a thread for the work hazgate-web must not do on its loop
 * (web-internal.h): checking a password (Argon2id, 0.1-0.5 s and 64 MiB
 * each) and writing a long track export. Calls queue in order (at most
 * WORKER_QUEUE_MAX waiting); each one's work runs on the thread, then its
 * after() on the loop, woken through a pipe. The loop does not touch a
 * call while it is queued or running; the thread touches nothing else.
 * libevent is not used from the thread.
 */
#include "web/web-internal.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/event.h>

#define WORKER_QUEUE_MAX 64

struct web_worker {
	pthread_t thread;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct web_call *todo, *todo_tail, *done;
	size_t queued;                  /* queued, running or done, not yet after() */
	bool stop;
	int pipe[2];
	struct event *ev;
};

static void *
worker_main(void *arg)
{
	struct web_worker *wk = arg;

	pthread_mutex_lock(&wk->mu);
	for (;;) {
		struct web_call *c;

		while (!wk->todo && !wk->stop)
			pthread_cond_wait(&wk->cv, &wk->mu);
		if (wk->stop)
			break;
		c = wk->todo;
		wk->todo = c->next_done;
		if (!wk->todo)
			wk->todo_tail = NULL;
		pthread_mutex_unlock(&wk->mu);
		c->work(c);
		pthread_mutex_lock(&wk->mu);
		c->next_done = wk->done;
		wk->done = c;
		(void)!write(wk->pipe[1], "x", 1);
	}
	pthread_mutex_unlock(&wk->mu);
	return NULL;
}

static void
on_worker_done(evutil_socket_t fd, short what, void *arg)
{
	struct web_worker *wk = arg;
	struct web_call *list, *rev = NULL;
	char buf[64];

	(void)what;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	pthread_mutex_lock(&wk->mu);
	list = wk->done;
	wk->done = NULL;
	pthread_mutex_unlock(&wk->mu);
	while (list) {                  /* oldest first */
		struct web_call *next = list->next_done;

		list->next_done = rev;
		rev = list;
		list = next;
	}
	while (rev) {
		struct web_call *next = rev->next_done;

		wk->queued--;
		rev->after(rev);
		rev = next;
	}
}

struct web_worker *
web_worker_new(struct event_base *base)
{
	struct web_worker *wk = calloc(1, sizeof(*wk));

	if (!wk)
		return NULL;
	wk->pipe[0] = wk->pipe[1] = -1;
	pthread_mutex_init(&wk->mu, NULL);
	pthread_cond_init(&wk->cv, NULL);
	if (pipe2(wk->pipe, O_NONBLOCK | O_CLOEXEC) != 0)
		goto err;
	wk->ev = event_new(base, wk->pipe[0], EV_READ | EV_PERSIST, on_worker_done, wk);
	if (!wk->ev || event_add(wk->ev, NULL) != 0)
		goto err;
	if (pthread_create(&wk->thread, NULL, worker_main, wk) != 0)
		goto err;
	wk->started = true;
	return wk;
err:
	web_worker_free(wk);
	return NULL;
}

void
web_worker_free(struct web_worker *wk)
{
	if (!wk)
		return;
	if (wk->started) {
		pthread_mutex_lock(&wk->mu);
		wk->stop = true;
		pthread_cond_signal(&wk->cv);
		pthread_mutex_unlock(&wk->mu);
		pthread_join(wk->thread, NULL);
	}
	/* Calls still queued or done: freed without an answer. */
	for (struct web_call *l = wk->todo, *n; l; l = n) {
		n = l->next_done;
		web_call_free(l);
	}
	for (struct web_call *l = wk->done, *n; l; l = n) {
		n = l->next_done;
		web_call_free(l);
	}
	if (wk->ev)
		event_free(wk->ev);
	if (wk->pipe[0] >= 0)
		close(wk->pipe[0]);
	if (wk->pipe[1] >= 0)
		close(wk->pipe[1]);
	pthread_mutex_destroy(&wk->mu);
	pthread_cond_destroy(&wk->cv);
	free(wk);
}

bool
web_worker_run(struct web_worker *wk, struct web_call *c, void (*work)(struct web_call *c),
               void (*after)(struct web_call *c))
{
	if (wk->queued >= WORKER_QUEUE_MAX)
		return false;
	wk->queued++;
	c->work = work;
	c->after = after;
	c->next_done = NULL;
	pthread_mutex_lock(&wk->mu);
	if (wk->todo_tail)
		wk->todo_tail->next_done = c;
	else
		wk->todo = c;
	wk->todo_tail = c;
	pthread_cond_signal(&wk->cv);
	pthread_mutex_unlock(&wk->mu);
	return true;
}
