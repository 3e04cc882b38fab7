// The one source of msgin5g_test_pch (tests/CMakeLists.txt), the target whose precompiled header
// of GoogleTest, GoogleMock and the standard library every test target reuses. Nothing else here.
