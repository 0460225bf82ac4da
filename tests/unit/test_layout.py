"""The package layout: who may import whom, no circles, small modules.

Read from the source with :mod:`ast`, so every import counts, including
those inside functions (which is how a circle hides).
"""

import ast
import os

import testtools

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
PACKAGES = ('cinder_ebs_driver', 'nova_shim', 'ebs_emulator',
            'ebs_allinone')
# Which of the project's packages each package may import. The driver and
# the shim are what operators install on their nodes: they never need the
# emulator or the all-in-one. The emulator reads the kernel's
# persistent-reservation ABI from the fencing package.
MAY_IMPORT = {
    'cinder_ebs_driver': set(),
    'nova_shim': set(),
    'ebs_emulator': {'nova_shim.fencing.pr_abi'},
    'ebs_allinone': {'cinder_ebs_driver', 'nova_shim', 'ebs_emulator'},
}
MAX_LINES = 450
# Longer modules, each one cohesive thing.
LONG_MODULES = {
    # The rule book: one table of ECS rules with their sources.
    'ebs_emulator/rules.py',
    # Cinder's volume driver interface, each method handing over to the
    # module that does the work.
    'cinder_ebs_driver/driver.py',
}


def _module_name(path):
    rel = os.path.relpath(path, ROOT)[:-len('.py')]
    parts = rel.split(os.sep)
    if parts[-1] == '__init__':
        parts = parts[:-1]
    return '.'.join(parts)


def _modules():
    """{module name: file path} of every module of the packages."""
    found = {}
    for package in PACKAGES:
        for folder, _dirs, files in os.walk(os.path.join(ROOT, package)):
            for name in files:
                if name.endswith('.py'):
                    path = os.path.join(folder, name)
                    found[_module_name(path)] = path
    return found


def _imports(path, modules):
    """The project modules ``path`` imports (anywhere in the file)."""
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                full = '%s.%s' % (node.module, alias.name)
                names.add(full if full in modules else node.module)
    return {name for name in names if name.split('.')[0] in PACKAGES}


def _circles(graph):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


class LayoutTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.modules = _modules()
        self.graph = {name: _imports(path, self.modules)
                      for name, path in self.modules.items()}

    def test_the_tree_is_read(self):
        # The checks below mean something only if the modules are found.
        self.assertIn('cinder_ebs_driver.driver', self.modules)
        self.assertIn('nova_shim.disk', self.graph['nova_shim.attach'])
        self.assertGreater(len(self.modules), 100)

    def test_packages_import_only_what_they_may(self):
        wrong = []
        for name, imported in sorted(self.graph.items()):
            package = name.split('.')[0]
            allowed = MAY_IMPORT[package]
            for other in sorted(imported):
                if other.split('.')[0] == package:
                    continue
                if not any(other == a or other.startswith(a + '.')
                           for a in allowed):
                    wrong.append('%s imports %s' % (name, other))
        self.assertEqual([], wrong)

    def test_no_import_circle(self):
        self.assertEqual([], _circles(self.graph))

    def test_circles_are_found(self):
        graph = {'a': {'b'}, 'b': {'c'}, 'c': {'a'}, 'd': {'a'}}
        self.assertEqual([['a', 'b', 'c']], _circles(graph))

    def test_modules_are_small(self):
        long_ones = []
        for name, path in sorted(self.modules.items()):
            with open(path) as f:
                count = sum(1 for _line in f)
            rel = os.path.relpath(path, ROOT)
            if count > MAX_LINES and rel not in LONG_MODULES:
                long_ones.append('%s: %d lines' % (rel, count))
        self.assertEqual([], long_ones)
