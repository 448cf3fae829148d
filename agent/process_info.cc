#include "agent/process_info.h"

#include <pwd.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>
#include <sstream>
#include <vector>

namespace jamjet {
namespace {

constexpr char kRedacted[] = "[REDACTED]";
// Name components that mark an option, header or variable as carrying a credential. Whole
// components only, so "--max-tokens" is not one while "access_token" and "x-api-key" are.
constexpr const char* kSecretComponents[] = {
    "key",  "apikey", "token",         "secret", "password",   "passwd",
    "auth", "bearer", "authorization", "cookie", "credential", "credentials"};
// Authorization schemes: the word after one of them is the credential itself.
constexpr const char* kAuthSchemes[] = {"bearer", "basic", "token", "digest"};
constexpr size_t kMaxProcFileBytes = 64 * 1024;

std::string ReadSmallFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::string content;
  content.resize(kMaxProcFileBytes);
  file.read(content.data(), static_cast<std::streamsize>(content.size()));
  content.resize(static_cast<size_t>(std::max<std::streamsize>(file.gcount(), 0)));
  return content;
}

std::string Lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

bool NamesSecret(const std::string& word) {
  std::string lower = Lowercase(word);
  size_t start = 0;
  while (start < lower.size()) {
    size_t end = start;
    while (end < lower.size() && std::isalnum(static_cast<unsigned char>(lower[end]))) ++end;
    std::string component = lower.substr(start, end - start);
    for (const char* secret : kSecretComponents) {
      if (component == secret) return true;
    }
    start = end + 1;
  }
  return false;
}

bool IsAuthScheme(const std::string& word) {
  std::string lower = Lowercase(word);
  return std::any_of(std::begin(kAuthSchemes), std::end(kAuthSchemes),
                     [&](const char* scheme) { return lower == scheme; });
}

// Replaces each query parameter whose name marks a secret ("?key=V", "&api_key=V").
std::string RedactUrlQuery(const std::string& url) {
  size_t query = url.find('?');
  if (query == std::string::npos) return url;
  std::string out = url.substr(0, query + 1);
  size_t start = query + 1;
  while (start <= url.size()) {
    size_t end = url.find('&', start);
    if (end == std::string::npos) end = url.size();
    std::string parameter = url.substr(start, end - start);
    size_t equals = parameter.find('=');
    bool secret = equals != std::string::npos && NamesSecret(parameter.substr(0, equals));
    out += secret ? kRedacted : parameter;
    if (end == url.size()) break;
    out.push_back('&');
    start = end + 1;
  }
  return out;
}

bool LooksLikeKey(const std::string& word) {
  return word.rfind("sk-", 0) == 0 || word.rfind("sk_", 0) == 0;
}

// Finds a 64-hex-digit container id in /proc/PID/cgroup (Docker, containerd, CRI-O paths).
std::string ContainerId(const std::string& cgroup) {
  size_t run = 0;
  for (size_t i = 0; i < cgroup.size(); ++i) {
    run = std::isxdigit(static_cast<unsigned char>(cgroup[i])) ? run + 1 : 0;
    bool ends = i + 1 == cgroup.size() || !std::isxdigit(static_cast<unsigned char>(cgroup[i + 1]));
    if (run == 64 && ends) return cgroup.substr(i + 1 - 64, 64);
  }
  return "";
}

std::string EnvironmentValue(const std::string& environ, const std::string& name) {
  std::string prefix = name + "=";
  size_t start = 0;
  while (start < environ.size()) {
    size_t end = environ.find('\0', start);
    if (end == std::string::npos) end = environ.size();
    if (environ.compare(start, prefix.size(), prefix) == 0) {
      return environ.substr(start + prefix.size(), end - start - prefix.size());
    }
    start = end + 1;
  }
  return "";
}

}  // namespace

std::string RedactCommandLine(const std::string& command_line) {
  std::istringstream words(command_line);
  std::vector<std::string> out;
  bool redact_next = false;
  std::string word;
  while (words >> word) {
    if (redact_next) {
      out.push_back(kRedacted);
      // "Authorization: Bearer TOKEN": the scheme and the token after it both go.
      redact_next = IsAuthScheme(word);
      continue;
    }
    size_t equals = word.find('=');
    size_t colon = word.find(':');
    bool url = word.find("://") != std::string::npos;
    // Whole words go, names included: "Authorization:" or "api_key=" in a log is a lead.
    if (url) {
      out.push_back(RedactUrlQuery(word));
    } else if (equals != std::string::npos && NamesSecret(word.substr(0, equals))) {
      out.push_back(kRedacted);  // --api-key=V, OPENAI_API_KEY=V
    } else if (colon != std::string::npos && NamesSecret(word.substr(0, colon))) {
      // A header: "Authorization:", "x-api-key:VALUE", "Authorization:Bearer".
      std::string value = word.substr(colon + 1);
      out.push_back(kRedacted);
      redact_next = value.empty() || IsAuthScheme(value);
    } else if (LooksLikeKey(word)) {
      out.push_back(kRedacted);
    } else if (word.size() > 1 && word[0] == '-' && NamesSecret(word)) {
      out.push_back(word);  // "--api-key VALUE", "--token VALUE"
      redact_next = true;
    } else if (IsAuthScheme(word) && Lowercase(word) != "token") {
      out.push_back(kRedacted);  // a bare "Bearer TOKEN" pair
      redact_next = true;
    } else {
      out.push_back(word);
    }
  }
  std::string joined;
  for (const std::string& part : out) {
    if (!joined.empty()) joined.push_back(' ');
    joined += part;
  }
  return joined;
}

Attributes ReadProcessResource(const std::string& proc_root, uint32_t pid,
                               const std::string& comm) {
  std::string dir = proc_root + "/" + std::to_string(pid);
  Attributes resource;
  SetAttribute(resource, "process.pid", static_cast<int64_t>(pid));
  SetAttribute(resource, "process.executable.name", comm);

  std::string command_line = ReadSmallFile(dir + "/cmdline");
  std::replace(command_line.begin(), command_line.end(), '\0', ' ');
  while (!command_line.empty() && command_line.back() == ' ') command_line.pop_back();
  if (!command_line.empty()) {
    SetAttribute(resource, "process.command_line", RedactCommandLine(command_line));
  }

  struct stat info;
  if (stat(dir.c_str(), &info) == 0) {
    passwd entry;
    passwd* found = nullptr;
    char buffer[1024];
    if (getpwuid_r(info.st_uid, &entry, buffer, sizeof(buffer), &found) == 0 && found) {
      SetAttribute(resource, "process.owner", std::string(found->pw_name));
    } else {
      SetAttribute(resource, "process.owner", std::to_string(info.st_uid));
    }
  }
  if (std::string container = ContainerId(ReadSmallFile(dir + "/cgroup")); !container.empty()) {
    SetAttribute(resource, "container.id", container);
  }
  std::string service = EnvironmentValue(ReadSmallFile(dir + "/environ"), "OTEL_SERVICE_NAME");
  SetAttribute(resource, "service.name", service.empty() ? comm : service);
  return resource;
}

}  // namespace jamjet
