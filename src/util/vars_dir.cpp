// group_vars/ and host_vars/ reading (see vars_dir.hpp).
#include "util/vars_dir.hpp"

#include <algorithm>
#include <set>

#include "util/yaml.hpp"

namespace decamp::vars_dir {

namespace fs = std::filesystem;

namespace {

bool yaml_extension(const fs::path& p) {
    const auto e = p.extension();
    return e == ".yml" || e == ".yaml" || e == ".json";
}

bool vars_extension(const fs::path& p) {
    return yaml_extension(p) || p.extension().empty();
}

}  // namespace

std::vector<fs::path> files_of(const fs::path& dir, const std::string& name) {
    std::error_code ec;
    for (const char* ext : {"", ".yml", ".yaml", ".json"}) {
        const fs::path f = dir / (name + ext);
        if (fs::is_regular_file(f, ec)) return {f};
    }
    std::vector<fs::path> out;
    if (!fs::is_directory(dir / name, ec)) return out;
    for (auto it = fs::recursive_directory_iterator(dir / name, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        const auto base = it->path().filename().string();
        if (!base.empty() && base[0] == '.') {
            if (it->is_directory(ec)) it.disable_recursion_pending();
            continue;
        }
        if (it->is_regular_file(ec) && vars_extension(it->path())) out.push_back(it->path());
    }
    std::sort(out.begin(), out.end());
    return out;
}

Value read_all(const fs::path& dir, std::vector<Diagnostic>& diags) {
    Value out = Value::map();
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return out;
    std::set<std::string> names;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        const fs::path& p = e.path();
        if (p.filename().string().rfind('.', 0) == 0) continue;
        if (e.is_directory(ec))
            names.insert(p.filename().string());
        else if (e.is_regular_file(ec))  // host_vars/web1.example.com has no extension
            names.insert(yaml_extension(p) ? p.stem().string() : p.filename().string());
    }
    for (const auto& name : names) {
        Value vars = Value::map();
        for (const auto& f : files_of(dir, name)) {
            Value v = yaml::load_file(f, f.string(), diags);
            if (v.is_map())
                for (const auto& [k, x] : v.entries()) vars.set(k, x);
            else if (!v.is_null())
                diags.push_back(Diagnostic{v.mark(), "", "expected a map of variable name to value"});
        }
        out.set(name, vars);
    }
    return out;
}

}  // namespace decamp::vars_dir
