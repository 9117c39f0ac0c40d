from . import accounting_sync_connect_wizard
from . import accounting_sync_connect_wizard_company
