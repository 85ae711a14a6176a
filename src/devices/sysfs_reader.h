// Reading attribute files under an injectable sysfs root, with errors that name the file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace tpufleet {

// Reads files below `root` (default "/"); every problem becomes a note in `problems()` rather
// than an exception or a crash, since sysfs contents are untrusted input.
class SysfsReader {
 public:
  explicit SysfsReader(std::filesystem::path root) : root_(std::move(root)) {}

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path Resolve(const std::string& relative) const { return root_ / relative; }
  bool Exists(const std::string& relative) const;

  // File contents with surrounding white space removed; nullopt when missing or unreadable
  // (reported as a problem only when `required`).
  std::optional<std::string> Text(const std::string& relative, bool required = false);
  // A decimal integer, or a hex one when `base` is 16. Malformed text is reported as a problem.
  std::optional<int64_t> Integer(const std::string& relative, int base = 10, bool required = false);

  // Names of the entries of a directory, in readdir order (unsorted, as the kernel lists them).
  std::vector<std::string> List(const std::string& relative) const;

  void AddProblem(std::string problem) { problems_.push_back(std::move(problem)); }
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  std::filesystem::path root_;
  std::vector<std::string> problems_;
};

}  // namespace tpufleet
