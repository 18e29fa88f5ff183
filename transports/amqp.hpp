// AMQP 0-9-1 through a RabbitMQ broker (rabbitmq-c): `amqp` (transient messages in transient queues),
// `amqp-durable` (persistent messages in durable queues) and `amqp-confirmed` (those, with publisher confirms: each
// publish waits for the broker to take responsibility for the message). Each pair has a
// request queue and a reply queue: the client publishes to the first and consumes the second, the server the
// other way round. Each endpoint holds two connections, one that publishes and one that consumes: a rabbitmq-c
// connection is not thread-safe, and the open-loop client sends from one thread while it receives in another.
// Connections open on first use in the process that uses them (a connection does not survive fork).
#pragma once

#include <string>

#include "transports/transport.hpp"

namespace bench {

// The broker the amqp channels use: a private one bench started (transports/amqp_broker.hpp) or --amqp-url's.
// Set for the span of a run (or a test) by an amqp_url_scope; channels made without one fail with the reason.
class amqp_url_scope {
 public:
  explicit amqp_url_scope(std::string url);
  ~amqp_url_scope();
  amqp_url_scope(const amqp_url_scope&) = delete;
  amqp_url_scope& operator=(const amqp_url_scope&) = delete;
};
// --amqp-url for the run: an external broker makes the transports available without rabbitmq-server.
void set_external_amqp_url(std::string url);
std::string external_amqp_url();

// "" when a broker can be had (rabbitmq-server is installed, or --amqp-url names one), otherwise why not.
std::string amqp_unavailable_reason();
// Whether a transport row goes through the broker (a run starts one for such cases).
bool uses_amqp_broker(const transport_info& t);
// An AMQP URL with its password left out, for the console and the results.
std::string amqp_url_for_display(const std::string& url);

// Streams keep at most this much unacknowledged (the harness's credits): the broker queues what its consumer has
// not taken, and a sender that outran it would fill the broker's memory until its flow control blocked every
// publisher.
inline constexpr std::size_t amqp_credit_window_bytes = std::size_t{4} << 20;

channel make_amqp_channel(const channel_options& opt);
channel make_amqp_durable_channel(const channel_options& opt);
channel make_amqp_confirmed_channel(const channel_options& opt);

}  // namespace bench
