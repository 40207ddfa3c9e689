#include "lang/python/modules.hpp"

#include <algorithm>

namespace trifecta::core::lang::python {

const std::vector<std::string>& default_source_roots() {
  static const std::vector<std::string> kRoots{"", "src"};
  return kRoots;
}

bool is_package_init(std::string_view relpath) {
  if (relpath == kPackageInit) return true;
  return relpath.size() > kPackageInit.size() && relpath.ends_with(kPackageInit) &&
         relpath[relpath.size() - kPackageInit.size() - 1] == '/';
}

std::string module_of(std::string_view relpath, const std::vector<std::string>& source_roots,
                      std::string_view package_prefix) {
  std::string_view m = relpath;
  if (is_package_init(m)) {
    m.remove_suffix(kPackageInit.size());
    if (!m.empty()) m.remove_suffix(1);  // the '/'
  } else if (m.ends_with(kSourceSuffix)) {
    m.remove_suffix(kSourceSuffix.size());
  }
  // The root is removed after the file name, so "src/__init__.py" is the package `src`.
  for (const auto& root : source_roots) {
    if (root.empty()) continue;
    if (m.size() > root.size() && m.starts_with(root) && m[root.size()] == '/') {
      m.remove_prefix(root.size() + 1);
      break;
    }
  }
  std::string out(m);
  std::replace(out.begin(), out.end(), '/', '.');
  if (package_prefix.empty()) return out;
  return out.empty() ? std::string(package_prefix) : std::string(package_prefix) + "." + out;
}

std::string module_of(std::string_view relpath, const std::vector<std::string>& source_roots) {
  return module_of(relpath, source_roots, {});
}

std::vector<ModuleFile> files_for(std::string_view base) {
  if (base.empty()) return {{std::string(kPackageInit), true}};
  std::string b(base);
  return {{b + std::string(kSourceSuffix), false}, {b + "/" + std::string(kPackageInit), true}};
}

std::vector<ModuleFile> candidate_files(std::string_view module,
                                        const std::vector<std::string>& source_roots) {
  std::vector<ModuleFile> out;
  if (module.empty()) return out;
  std::string sub(module);
  std::replace(sub.begin(), sub.end(), '.', '/');
  for (const auto& root : source_roots) {
    for (auto& f : files_for(root.empty() ? sub : root + "/" + sub)) out.push_back(std::move(f));
  }
  return out;
}

}  // namespace trifecta::core::lang::python
