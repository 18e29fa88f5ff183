// A private temporary directory (mode 0700, under $TMPDIR) for FIFOs, socket files and the like; removed with
// everything left in it when the owner goes, also when a case failed or was interrupted.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <system_error>

#include "base/error.hpp"

namespace bench {

class temp_dir {
 public:
  explicit temp_dir(const std::string& prefix = "bench") {
    std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    if (!::mkdtemp(tmpl.data())) throw_errno("create a private temporary directory");
    path_ = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace bench
