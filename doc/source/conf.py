# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""Sphinx configuration of the cinder-ebs-driver documentation."""

extensions = [
    'openstackdocstheme',
    'oslo_config.sphinxext',
]

project = 'cinder-ebs-driver'
copyright = 'cinder-ebs-driver developers'

# The project is not hosted on opendev.org: no "report a bug" or
# "edit this page" links pointing there, and the name is set above.
openstackdocs_auto_name = False
openstackdocs_repo_name = 'cinder-ebs-driver'
openstackdocs_use_storyboard = False
openstackdocs_bug_project = ''
openstackdocs_bug_tag = ''
openstackdocs_pdf_link = False

master_doc = 'index'
source_suffix = '.rst'
exclude_patterns = []
pygments_style = 'native'
html_theme = 'openstackdocs'
html_static_path = ['_static']
html_css_files = ['tables.css']
