"""The function-length check finds what it must (a long function, a long template function, a long member) and
nothing else (a long type, a long table, a long comment)."""
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import function_length  # noqa: E402


def body(n):
    return "".join(f"  x += {i};\n" for i in range(n))


class FunctionLength(unittest.TestCase):
    def lengths(self, text, suffix=".cpp"):
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / f"a{suffix}"
            path.write_text(text)
            found = function_length.cpp_functions(path) if suffix == ".cpp" else function_length.python_functions(path)
            return {name: n for _, name, n in found}

    def test_functions_are_measured_from_signature_to_closing_brace(self):
        text = ("int short_one(int a) {\n  return a;\n}\n\n"
                "template <class Lock>\nvoid long_one(int a,\n              int b) {\n" + body(90) + "}\n")
        self.assertEqual(self.lengths(text), {"short_one": 3, "long_one": 94})

    def test_members_count_and_types_and_tables_do_not(self):
        text = ("struct s {\n  void member() {\n" + body(85).replace("\n  ", "\n    ") + "  }\n};\n"
                "const int table[] = {\n" + "".join(f"    {i},\n" for i in range(100)) + "};\n"
                "// f() {\n" + "".join("// line\n" for _ in range(100)))
        self.assertEqual(self.lengths(text), {"member": 87})

    def test_python_functions(self):
        text = "def f():\n" + "".join(f"    a = {i}\n" for i in range(90)) + "\n\ndef g():\n    return 1\n"
        self.assertEqual(self.lengths(text, ".py"), {"f": 91, "g": 2})

    def test_the_tree_is_checked_with_an_exit_status(self):
        with tempfile.TemporaryDirectory() as d:
            (Path(d) / "bench").mkdir()
            (Path(d) / "plots").mkdir()
            (Path(d) / "bench" / "a.cpp").write_text("void f() {\n" + body(90) + "}\n")
            self.assertEqual(function_length.main([d]), 1)
            (Path(d) / "bench" / "a.cpp").write_text("void f() {\n" + body(10) + "}\n")
            self.assertEqual(function_length.main([d]), 0)


if __name__ == "__main__":
    unittest.main()
