/*
 * sdl.h -- libsystemd's sd-bus, loaded with dlopen() where it is used.
 *
 * netmgr needs it only when a system bus exists, dnsmgr only for
 * systemd-resolved: linked, libsystemd (and what it maps) costs every
 * start of those children about a megabyte of memory whether a bus is
 * there or not. sdl_load() maps it once, before the sandbox closes;
 * the code calling sd_* functions includes this header instead of
 * <systemd/sd-bus.h>, and every call goes through the table it fills.
 */
#ifndef VPND_SDL_H
#define VPND_SDL_H

#include <systemd/sd-bus.h>
#include <systemd/sd-id128.h>

#define SDL_SONAME	"libsystemd.so.0"

/* Every function of libsystemd that vpnd calls. */
#define SDL_FUNCS(X)							\
	X(sd_bus_add_filter)						\
	X(sd_bus_add_object_vtable)					\
	X(sd_bus_call)							\
	X(sd_bus_call_method_async)					\
	X(sd_bus_close_unref)						\
	X(sd_bus_emit_signal)						\
	X(sd_bus_error_free)						\
	X(sd_bus_error_set)						\
	X(sd_bus_error_setf)						\
	X(sd_bus_flush)							\
	X(sd_bus_flush_close_unref)					\
	X(sd_bus_get_events)						\
	X(sd_bus_get_fd)						\
	X(sd_bus_get_timeout)						\
	X(sd_bus_is_open)						\
	X(sd_bus_message_append)					\
	X(sd_bus_message_append_array)					\
	X(sd_bus_message_close_container)				\
	X(sd_bus_message_enter_container)				\
	X(sd_bus_message_exit_container)				\
	X(sd_bus_message_get_error)					\
	X(sd_bus_message_get_member)					\
	X(sd_bus_message_get_sender)					\
	X(sd_bus_message_is_method_call)				\
	X(sd_bus_message_is_method_error)				\
	X(sd_bus_message_new_method_call)				\
	X(sd_bus_message_open_container)				\
	X(sd_bus_message_read)						\
	X(sd_bus_message_ref)						\
	X(sd_bus_message_skip)						\
	X(sd_bus_message_unref)						\
	X(sd_bus_negotiate_fds)						\
	X(sd_bus_new)							\
	X(sd_bus_open_system)						\
	X(sd_bus_process)						\
	X(sd_bus_reply_method_errno)					\
	X(sd_bus_reply_method_errorf)					\
	X(sd_bus_reply_method_return)					\
	X(sd_bus_request_name_async)					\
	X(sd_bus_set_address)						\
	X(sd_bus_set_bus_client)					\
	X(sd_bus_set_trusted)						\
	X(sd_bus_slot_set_userdata)					\
	X(sd_bus_slot_unref)						\
	X(sd_bus_start)							\
	X(sd_bus_unref)							\
	X(sd_id128_get_machine)						\
	X(sd_id128_to_string)

#define SDL_MEMBER(f)	__typeof__(f) *f;
struct sdl {
	SDL_FUNCS(SDL_MEMBER)
	/* the vtable format SD_BUS_VTABLE_START names (a data symbol) */
	const unsigned int	*vtable_format;
};
#undef SDL_MEMBER
extern struct sdl sdl;

/* 0 once libsystemd is mapped and every function found, else -1 with
 * why in err. */
int	 sdl_load(char *err, size_t errlen);
int	 sdl_loaded(void);

#ifndef SDL_NO_REDIRECT
#define sd_bus_add_filter		(sdl.sd_bus_add_filter)
#define sd_bus_add_object_vtable	(sdl.sd_bus_add_object_vtable)
#define sd_bus_call			(sdl.sd_bus_call)
#define sd_bus_call_method_async	(sdl.sd_bus_call_method_async)
#define sd_bus_close_unref		(sdl.sd_bus_close_unref)
#define sd_bus_emit_signal		(sdl.sd_bus_emit_signal)
#define sd_bus_error_free		(sdl.sd_bus_error_free)
#define sd_bus_error_set		(sdl.sd_bus_error_set)
#define sd_bus_error_setf		(sdl.sd_bus_error_setf)
#define sd_bus_flush			(sdl.sd_bus_flush)
#define sd_bus_flush_close_unref	(sdl.sd_bus_flush_close_unref)
#define sd_bus_get_events		(sdl.sd_bus_get_events)
#define sd_bus_get_fd			(sdl.sd_bus_get_fd)
#define sd_bus_get_timeout		(sdl.sd_bus_get_timeout)
#define sd_bus_is_open			(sdl.sd_bus_is_open)
#define sd_bus_message_append		(sdl.sd_bus_message_append)
#define sd_bus_message_append_array	(sdl.sd_bus_message_append_array)
#define sd_bus_message_close_container	(sdl.sd_bus_message_close_container)
#define sd_bus_message_enter_container	(sdl.sd_bus_message_enter_container)
#define sd_bus_message_exit_container	(sdl.sd_bus_message_exit_container)
#define sd_bus_message_get_error	(sdl.sd_bus_message_get_error)
#define sd_bus_message_get_member	(sdl.sd_bus_message_get_member)
#define sd_bus_message_get_sender	(sdl.sd_bus_message_get_sender)
#define sd_bus_message_is_method_call	(sdl.sd_bus_message_is_method_call)
#define sd_bus_message_is_method_error	(sdl.sd_bus_message_is_method_error)
#define sd_bus_message_new_method_call	(sdl.sd_bus_message_new_method_call)
#define sd_bus_message_open_container	(sdl.sd_bus_message_open_container)
#define sd_bus_message_read		(sdl.sd_bus_message_read)
#define sd_bus_message_ref		(sdl.sd_bus_message_ref)
#define sd_bus_message_skip		(sdl.sd_bus_message_skip)
#define sd_bus_message_unref		(sdl.sd_bus_message_unref)
#define sd_bus_negotiate_fds		(sdl.sd_bus_negotiate_fds)
#define sd_bus_new			(sdl.sd_bus_new)
#define sd_bus_open_system		(sdl.sd_bus_open_system)
#define sd_bus_process			(sdl.sd_bus_process)
#define sd_bus_reply_method_errno	(sdl.sd_bus_reply_method_errno)
#define sd_bus_reply_method_errorf	(sdl.sd_bus_reply_method_errorf)
#define sd_bus_reply_method_return	(sdl.sd_bus_reply_method_return)
#define sd_bus_request_name_async	(sdl.sd_bus_request_name_async)
#define sd_bus_set_address		(sdl.sd_bus_set_address)
#define sd_bus_set_bus_client		(sdl.sd_bus_set_bus_client)
#define sd_bus_set_trusted		(sdl.sd_bus_set_trusted)
#define sd_bus_slot_set_userdata	(sdl.sd_bus_slot_set_userdata)
#define sd_bus_slot_unref		(sdl.sd_bus_slot_unref)
#define sd_bus_start			(sdl.sd_bus_start)
#define sd_bus_unref			(sdl.sd_bus_unref)
#define sd_id128_get_machine		(sdl.sd_id128_get_machine)
#define sd_id128_to_string		(sdl.sd_id128_to_string)
#endif

#endif /* VPND_SDL_H */
