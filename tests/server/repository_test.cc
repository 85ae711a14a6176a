// The model repository: entries by file and folder, compiled twins, config.json, and names or
// symlinks that would leave the directory.
#include "server/repository.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace tpufleet::server {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class RepositoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("repository_test_" + std::to_string(getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "repo");
    fs::create_directories(root_ / "outside");
  }
  void TearDown() override { fs::remove_all(root_); }

  void Write(const fs::path& relative, const std::string& text = "bytes") {
    fs::create_directories((root_ / relative).parent_path());
    std::ofstream(root_ / relative) << text;
  }
  ModelRepository Open() {
    Result<ModelRepository> repository = ModelRepository::Open((root_ / "repo").string());
    EXPECT_TRUE(repository.ok()) << repository.status().ToString();
    return std::move(repository).value();
  }
  std::string Resolved(const fs::path& relative) { return fs::canonical(root_ / relative); }

  fs::path root_;
};

TEST_F(RepositoryTest, FilesAndFoldersAreEntriesNamedByTheEntry) {
  Write("repo/plain.tflite");
  Write("repo/ssd/detect.tflite");
  Write("repo/ssd/labels.txt", "person\n");
  Write("repo/ssd/config.json", R"({"devices": ["sim:1"]})");
  Write("repo/README.md");
  Write("repo/.hidden.tflite");
  ModelRepository repository = Open();
  EXPECT_THAT(repository.Names(), ElementsAre("plain", "ssd"));

  Result<ModelEntry> plain = repository.Find("plain");
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(plain->model_path, Resolved("repo/plain.tflite"));
  EXPECT_EQ(plain->labels_path, "");
  EXPECT_EQ(plain->placement, ModelPlacement{});

  Result<ModelEntry> ssd = repository.Find("ssd");
  ASSERT_TRUE(ssd.ok()) << ssd.status().ToString();
  EXPECT_EQ(ssd->model_path, Resolved("repo/ssd/detect.tflite"));
  EXPECT_EQ(ssd->labels_path, Resolved("repo/ssd/labels.txt"));
  EXPECT_THAT(ssd->placement.devices, ElementsAre("sim:1"));

  EXPECT_EQ(repository.Find("missing").status().code(), StatusCode::kNotFound);
}

TEST_F(RepositoryTest, ACompiledModelBesideItsTwinIsServed) {
  Write("repo/mobilenet.tflite");
  Write("repo/mobilenet_edgetpu.tflite");
  Write("repo/only_edgetpu.tflite");
  Write("repo/pair/net.tflite");
  Write("repo/pair/net_edgetpu.tflite");
  ModelRepository repository = Open();
  EXPECT_THAT(repository.Names(), ElementsAre("mobilenet", "only_edgetpu", "pair"));
  EXPECT_EQ(repository.Find("mobilenet")->model_path, Resolved("repo/mobilenet_edgetpu.tflite"));
  EXPECT_EQ(repository.Find("only_edgetpu")->model_path, Resolved("repo/only_edgetpu.tflite"));
  EXPECT_EQ(repository.Find("pair")->model_path, Resolved("repo/pair/net_edgetpu.tflite"));
  Result<ModelEntry> twin = repository.Find("mobilenet_edgetpu");
  EXPECT_EQ(twin.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(twin.status().message(), HasSubstr("served as model 'mobilenet'"));
}

TEST_F(RepositoryTest, AFolderMustHoldOneModelAndAValidConfig) {
  Write("repo/two/a.tflite");
  Write("repo/two/b.tflite");
  Write("repo/none/labels.txt");
  Write("repo/badconfig/m.tflite");
  Write("repo/badconfig/config.json", R"({"device": "sim:0"})");
  Write("repo/notjson/m.tflite");
  Write("repo/notjson/config.json", "{devices");
  ModelRepository repository = Open();
  EXPECT_THAT(repository.Find("two").status().message(), HasSubstr("holds 2 models (a, b)"));
  EXPECT_THAT(repository.Find("none").status().message(), HasSubstr("holds 0 models"));
  EXPECT_THAT(repository.Find("badconfig").status().message(),
              HasSubstr("unknown key 'device'; config.json knows \"devices\", \"replicas\" and "
                        "\"group\""));
  EXPECT_THAT(repository.Find("notjson").status().message(), HasSubstr("not a JSON object"));
}

TEST_F(RepositoryTest, ConfigGivesDevicesReplicasAndAGroup) {
  Write("repo/all/m.tflite");
  Write("repo/all/config.json", R"({"devices": ["sim:0", "sim:1"], "replicas": 2, "group": "g"})");
  Write("repo/auto/m.tflite");
  Write("repo/auto/config.json", R"({"replicas": 3})");
  ModelRepository repository = Open();
  Result<ModelEntry> all = repository.Find("all");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_THAT(all->placement.devices, ElementsAre("sim:0", "sim:1"));
  EXPECT_EQ(all->placement.replicas, 2);
  EXPECT_EQ(all->placement.group, "g");
  Result<ModelEntry> automatic = repository.Find("auto");
  ASSERT_TRUE(automatic.ok()) << automatic.status().ToString();
  EXPECT_TRUE(automatic->placement.devices.empty());
  EXPECT_EQ(automatic->placement.replicas, 3);
  EXPECT_EQ(automatic->placement.group, "");

  const std::pair<const char*, const char*> bad[] = {
      {R"({"replicas": 0})", "\"replicas\" must be a whole number from 1 to 1024"},
      {R"({"replicas": 1.5})", "\"replicas\" must be a whole number"},
      {R"({"replicas": "2"})", "\"replicas\" must be a whole number"},
      {R"({"replicas": 3, "devices": ["sim:0"]})", "\"replicas\" is 3 but \"devices\" lists 1"},
      {R"({"group": 7})", "\"group\" must be a name"},
      {R"({"group": "../x"})", "\"group\" must be a name"},
      {R"({"devices": "sim:0"})", "\"devices\" must be an array of device strings"},
  };
  for (const auto& [config, message] : bad) {
    Write("repo/bad/m.tflite");
    Write("repo/bad/config.json", config);
    Result<ModelEntry> entry = Open().Find("bad");
    EXPECT_EQ(entry.status().code(), StatusCode::kInvalidArgument) << config;
    EXPECT_THAT(entry.status().message(), HasSubstr(message)) << config;
  }
}

TEST_F(RepositoryTest, NamesAndPathsNeverLeaveTheDirectory) {
  Write("outside/secret.tflite");
  Write("outside/folder/m.tflite");
  Write("repo/inner/m.tflite");
  fs::create_symlink(root_ / "outside/secret.tflite", root_ / "repo/escape.tflite");
  fs::create_symlink(root_ / "outside/folder", root_ / "repo/escaped_folder");
  fs::create_symlink(root_ / "outside/secret.tflite", root_ / "repo/inner/labels.txt");
  fs::create_symlink("inner/m.tflite", root_ / "repo/alias.tflite");  // inside: fine
  ModelRepository repository = Open();
  for (const std::string& name :
       std::vector<std::string>{"../outside/secret", "..", "/etc/passwd", "a/b", ".hidden", "",
                                "stats", std::string(200, 'x'), std::string("nul\0byte", 8)}) {
    Result<ModelEntry> entry = repository.Find(name);
    EXPECT_EQ(entry.status().code(), StatusCode::kInvalidArgument) << name;
  }
  EXPECT_THAT(repository.Find("..").status().message(),
              HasSubstr("names are 1 to 128 letters, digits"));
  for (const char* name : {"escape", "escaped_folder", "inner"}) {
    Result<ModelEntry> entry = repository.Find(name);
    EXPECT_EQ(entry.status().code(), StatusCode::kInvalidArgument) << name;
    EXPECT_THAT(entry.status().message(), HasSubstr("outside the model repository")) << name;
  }
  Result<ModelEntry> alias = repository.Find("alias");
  ASSERT_TRUE(alias.ok()) << alias.status().ToString();
  EXPECT_EQ(alias->model_path, Resolved("repo/inner/m.tflite"));
}

TEST_F(RepositoryTest, TheDirectoryMustExist) {
  EXPECT_EQ(ModelRepository::Open((root_ / "nope").string()).status().code(),
            StatusCode::kNotFound);
  Write("afile");
  EXPECT_EQ(ModelRepository::Open((root_ / "afile").string()).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tpufleet::server
