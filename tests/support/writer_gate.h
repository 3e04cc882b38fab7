// Holds a Store's writer thread inside an operation until Release(), so that operations submitted
// meanwhile queue up and then share one batch (storage and broker unit tests).
#pragma once

#include <future>

#include "common/status.h"
#include "storage/store.h"
#include "tests/support/async_wait.h"

namespace msgin5g::testing_support {

class WriterGate {
 public:
  explicit WriterGate(storage::Store& store)
      : released_(release_.get_future().share()), done_future_(done_.get_future().share()) {
    auto entered = entered_.get_future();
    store.Submit(
        [this](storage::Txn&) {
          entered_.set_value();
          released_.wait();
          return Status::Ok();
        },
        [this](Status st) { done_.set_value(std::move(st)); });
    Await(std::move(entered));
  }
  // The writer still touches this object after Release() (the op returns, then `done` runs):
  // wait for that before the members go away.
  ~WriterGate() {
    if (!released_called_) Release();
    done_future_.wait();
  }
  void Release() {
    released_called_ = true;
    release_.set_value();
  }
  Status Done() { return Await(done_future_); }

 private:
  std::promise<void> entered_;
  std::promise<void> release_;
  std::shared_future<void> released_;
  std::promise<Status> done_;
  std::shared_future<Status> done_future_;
  bool released_called_ = false;
};

}  // namespace msgin5g::testing_support
