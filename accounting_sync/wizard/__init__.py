from . import accounting_sync_connect_wizard
from . import accounting_sync_connect_wizard_company
from . import accounting_sync_reset_wizard
from . import accounting_sync_start_wizard
from . import accounting_sync_reconciliation_ignore
