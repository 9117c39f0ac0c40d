from . import accounting_sync_connection
from . import res_config_settings
