#pragma once
// awaitReply: one Green API call through the shared engine, waited for by the calling thread (an
// API worker or a job thread, never the engine's loop): the engine completes every request
// exactly once, bounded by its request timeout.

#include <future>
#include <string>

#include "greenapi/transfer_engine.hpp"

namespace greenfleet::scheduler {

inline greenapi::RawReply awaitReply(greenapi::TransferEngine& engine,
                                     const greenapi::InstanceCredentials& credentials,
                                     const std::string& method, std::string post_body = {}) {
  std::promise<greenapi::RawReply> reply;
  auto future = reply.get_future();
  engine.submit(greenapi::TransferEngine::Request{
      credentials, method, [&reply](greenapi::RawReply&& raw) { reply.set_value(std::move(raw)); },
      std::move(post_body)});
  return future.get();
}

}  // namespace greenfleet::scheduler
