#include "io/atomic_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "io_test_util.h"

namespace graphrun::io {
namespace {

using testing::expect_error;
using testing::ScratchDir;
using testing::slurp;
using testing::to_bytes;
using testing::write_bytes;

int count_temp_files(const std::string& dir) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().filename().string().find(".tmp.") != std::string::npos) ++n;
  }
  return n;
}

TEST(AtomicFile, WritesAndReplaces) {
  ScratchDir dir;
  std::string path = dir / "out.bin";
  write_file_atomically(path, to_bytes("first"));
  EXPECT_EQ(slurp(path), to_bytes("first"));
  write_file_atomically(path, to_bytes("second, longer"));
  EXPECT_EQ(slurp(path), to_bytes("second, longer"));
  write_file_atomically(path, {});
  EXPECT_TRUE(slurp(path).empty());
  EXPECT_EQ(count_temp_files(dir.path()), 0);
}

TEST(AtomicFile, TempNameIsDotBaseTmpPid) {
  EXPECT_EQ(atomic_temp_path("/a/b/model.safetensors"), "/a/b/.model.safetensors.tmp." + std::to_string(::getpid()));
  EXPECT_EQ(atomic_temp_path("x"), ".x.tmp." + std::to_string(::getpid()));
}

// Injected failure 1: the temporary path is a directory, so creating the temp file fails.
// (Permission bits cannot be used: the tests may run as root, which ignores them.)
TEST(AtomicFile, FailedCreateLeavesOldFileIntact) {
  ScratchDir dir;
  std::string path = dir / "ckpt.bin";
  write_bytes(path, to_bytes("old contents"));
  ASSERT_TRUE(std::filesystem::create_directory(atomic_temp_path(path)));
  expect_error([&] { write_file_atomically(path, to_bytes("new")); }, ErrorKind::Io,
               {path, "cannot create temporary file", "Is a directory"});
  EXPECT_EQ(slurp(path), to_bytes("old contents"));
  EXPECT_TRUE(std::filesystem::is_directory(atomic_temp_path(path)));  // not ours: left alone
}

// Injected failure 2: the target is a non-empty directory, so the rename fails after the data
// was written: the temporary file must be removed.
TEST(AtomicFile, FailedRenameRemovesTempFile) {
  ScratchDir dir;
  std::string path = dir / "target";
  std::filesystem::create_directory(path);
  write_bytes(path + "/keep", to_bytes("x"));
  expect_error([&] { write_file_atomically(path, to_bytes("new")); }, ErrorKind::Io, {path, "cannot rename"});
  EXPECT_EQ(count_temp_files(dir.path()), 0);
  EXPECT_EQ(slurp(path + "/keep"), to_bytes("x"));
}

// Injected failure 3: the directory does not exist.
TEST(AtomicFile, MissingDirectoryIsIoError) {
  ScratchDir dir;
  std::string path = dir / "no/such/dir/out.bin";
  expect_error([&] { write_file_atomically(path, to_bytes("x")); }, ErrorKind::Io, {path, "No such file or directory"});
}

TEST(AtomicFile, AbandonedWriterRemovesTempAndKeepsTarget) {
  ScratchDir dir;
  std::string path = dir / "f";
  write_bytes(path, to_bytes("old"));
  {
    AtomicFileWriter w(path);
    w.write(to_bytes("partial"));
    EXPECT_TRUE(std::filesystem::exists(w.temp_path()));
  }  // no commit: as if an exception unwound through the writer
  EXPECT_EQ(slurp(path), to_bytes("old"));
  EXPECT_EQ(count_temp_files(dir.path()), 0);
}

TEST(AtomicFile, StreamingWriter) {
  ScratchDir dir;
  std::string path = dir / "f";
  AtomicFileWriter w(path);
  w.write(to_bytes("ab"));
  w.write(to_bytes("cd"));
  w.commit();
  EXPECT_EQ(slurp(path), to_bytes("abcd"));
}

TEST(AtomicFile, RemovesStaleTempFilesOfDeadProcesses) {
  ScratchDir dir;
  // pid_max is at most 2^22 on Linux: this pid cannot be running.
  write_bytes(dir / ".model.bin.tmp.99999999", to_bytes("stale"));
  write_bytes(dir / (".model.bin.tmp." + std::to_string(::getpid())), to_bytes("ours"));
  write_bytes(dir / ".model.bin.tmp.1", to_bytes("pid 1 runs"));
  write_bytes(dir / ".other.bin.tmp.99999999", to_bytes("another base"));
  write_bytes(dir / ".model.bin.tmp.12x", to_bytes("not a pid"));
  EXPECT_EQ(remove_stale_temp_files(dir.path(), "model.bin"), 1);
  EXPECT_FALSE(std::filesystem::exists(dir / ".model.bin.tmp.99999999"));
  EXPECT_EQ(count_temp_files(dir.path()), 4);
  EXPECT_EQ(remove_stale_temp_files(dir / "missing", "model.bin"), 0);
}

TEST(ReadFile, ReadsAndChecks) {
  ScratchDir dir;
  std::string path = dir / "data";
  write_bytes(path, to_bytes("0123456789"));
  EXPECT_EQ(read_file(path, 10), to_bytes("0123456789"));
  expect_error([&] { read_file(path, 9); }, ErrorKind::BadInput, {path, "10 bytes", "limit of 9 bytes"});
  expect_error([&] { read_file(dir / "missing", 10); }, ErrorKind::Io, {dir / "missing", "No such file"});
  expect_error([&] { read_file(dir.path(), 10); }, ErrorKind::BadInput, {dir.path(), "is a directory"});
  write_bytes(path, {});
  EXPECT_TRUE(read_file(path, 0).empty());
}

}  // namespace
}  // namespace graphrun::io
