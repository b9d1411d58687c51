"""Contains all the data models used in inputs/outputs"""

from .admin_update_user_in import AdminUpdateUserIn
from .avatar_out import AvatarOut
from .avatar_out_sizes import AvatarOutSizes
from .bind_phone_in import BindPhoneIn
from .body_token_api_v1_auth_token_post import BodyTokenApiV1AuthTokenPost
from .change_password_in import ChangePasswordIn
from .checkout_out import CheckoutOut
from .checkout_out_jsapi_type_0 import CheckoutOutJsapiType0
from .export_orders_csv_api_v1_orders_export_csv_get_status_type_0 import (
    ExportOrdersCsvApiV1OrdersExportCsvGetStatusType0,
)
from .export_orders_xlsx_api_v1_orders_export_xlsx_get_status_type_0 import (
    ExportOrdersXlsxApiV1OrdersExportXlsxGetStatusType0,
)
from .export_products_csv_api_v1_products_export_csv_get_status_type_0 import (
    ExportProductsCsvApiV1ProductsExportCsvGetStatusType0,
)
from .export_products_xlsx_api_v1_products_export_xlsx_get_status_type_0 import (
    ExportProductsXlsxApiV1ProductsExportXlsxGetStatusType0,
)
from .file_out import FileOut
from .file_out_purpose import FileOutPurpose
from .forgot_password_in import ForgotPasswordIn
from .get_avatar_api_v1_users_user_id_avatar_get_size import (
    GetAvatarApiV1UsersUserIdAvatarGetSize,
)
from .import_problem import ImportProblem
from .import_products_api_v1_products_import_post_body import (
    ImportProductsApiV1ProductsImportPostBody,
)
from .import_products_api_v1_products_import_post_mode import (
    ImportProductsApiV1ProductsImportPostMode,
)
from .import_result import ImportResult
from .import_result_mode import ImportResultMode
from .job_accepted import JobAccepted
from .job_accepted_status import JobAcceptedStatus
from .job_error import JobError
from .job_out import JobOut
from .job_out_direction import JobOutDirection
from .job_out_format import JobOutFormat
from .job_out_kind import JobOutKind
from .job_out_params import JobOutParams
from .job_out_status import JobOutStatus
from .list_files_api_v1_files_get_purpose_type_0 import (
    ListFilesApiV1FilesGetPurposeType0,
)
from .list_notifications_api_v1_notifications_get_channel_type_0 import (
    ListNotificationsApiV1NotificationsGetChannelType0,
)
from .list_notifications_api_v1_notifications_get_status_type_0 import (
    ListNotificationsApiV1NotificationsGetStatusType0,
)
from .list_orders_api_v1_orders_get_status_type_0 import (
    ListOrdersApiV1OrdersGetStatusType0,
)
from .list_products_api_v1_products_get_sort import ListProductsApiV1ProductsGetSort
from .list_products_api_v1_products_get_status_type_0 import (
    ListProductsApiV1ProductsGetStatusType0,
)
from .login_audit_api_v1_audit_logins_get_outcome_type_0 import (
    LoginAuditApiV1AuditLoginsGetOutcomeType0,
)
from .login_audit_out import LoginAuditOut
from .login_in import LoginIn
from .logout_in import LogoutIn
from .members_in import MembersIn
from .message_in import MessageIn
from .message_out import MessageOut
from .message_page import MessagePage
from .mfa_challenge_out import MfaChallengeOut
from .mfa_challenge_out_methods_item import MfaChallengeOutMethodsItem
from .mfa_disable_in import MfaDisableIn
from .mfa_login_in import MfaLoginIn
from .mfa_login_in_method import MfaLoginInMethod
from .mfa_sms_in import MfaSmsIn
from .notification_out import NotificationOut
from .notification_out_channel import NotificationOutChannel
from .notification_out_status import NotificationOutStatus
from .notification_settings_io import NotificationSettingsIO
from .notification_settings_io_mail_item import NotificationSettingsIOMailItem
from .notification_settings_io_sms_item import NotificationSettingsIOSmsItem
from .order_create_in import OrderCreateIn
from .order_export_in import OrderExportIn
from .order_export_in_format import OrderExportInFormat
from .order_filters import OrderFilters
from .order_filters_status_type_0 import OrderFiltersStatusType0
from .order_history_out import OrderHistoryOut
from .order_item_out import OrderItemOut
from .order_line_in import OrderLineIn
from .order_out import OrderOut
from .page_file_out import PageFileOut
from .page_job_out import PageJobOut
from .page_login_audit_out import PageLoginAuditOut
from .page_notification_out import PageNotificationOut
from .page_order_out import PageOrderOut
from .page_product_out import PageProductOut
from .page_room_out import PageRoomOut
from .page_user_out import PageUserOut
from .pay_in import PayIn
from .pay_out import PayOut
from .payment_attempt_out import PaymentAttemptOut
from .payment_attempt_out_status import PaymentAttemptOutStatus
from .payment_callback_out import PaymentCallbackOut
from .payment_form_out import PaymentFormOut
from .payment_form_out_fields import PaymentFormOutFields
from .payment_method_out import PaymentMethodOut
from .presence_out import PresenceOut
from .problem import Problem
from .problem_error import ProblemError
from .product_create_in import ProductCreateIn
from .product_create_in_status import ProductCreateInStatus
from .product_export_in import ProductExportIn
from .product_export_in_format import ProductExportInFormat
from .product_filters import ProductFilters
from .product_filters_status_type_0 import ProductFiltersStatusType0
from .product_out import ProductOut
from .product_update_in import ProductUpdateIn
from .product_update_in_status import ProductUpdateInStatus
from .put_avatar_api_v1_users_me_avatar_put_body import (
    PutAvatarApiV1UsersMeAvatarPutBody,
)
from .read_in import ReadIn
from .read_out import ReadOut
from .reason_in import ReasonIn
from .recovery_codes_out import RecoveryCodesOut
from .refresh_in import RefreshIn
from .refund_in import RefundIn
from .refund_out import RefundOut
from .refund_out_status import RefundOutStatus
from .register_in import RegisterIn
from .reset_password_in_type_0 import ResetPasswordInType0
from .reset_password_in_type_1 import ResetPasswordInType1
from .role_out import RoleOut
from .room_create_in_type_0 import RoomCreateInType0
from .room_create_in_type_1 import RoomCreateInType1
from .room_out import RoomOut
from .room_out_kind import RoomOutKind
from .session_out import SessionOut
from .ship_in import ShipIn
from .sms_code_in import SmsCodeIn
from .sms_code_in_purpose import SmsCodeInPurpose
from .sms_login_in import SmsLoginIn
from .ticket_out import TicketOut
from .token_pair_out import TokenPairOut
from .totp_confirm_in import TotpConfirmIn
from .totp_setup_out import TotpSetupOut
from .update_me_in import UpdateMeIn
from .upload_file_api_v1_files_post_body import UploadFileApiV1FilesPostBody
from .upload_file_api_v1_files_post_body_purpose import (
    UploadFileApiV1FilesPostBodyPurpose,
)
from .upload_order_document_api_v1_orders_order_id_documents_post_body import (
    UploadOrderDocumentApiV1OrdersOrderIdDocumentsPostBody,
)
from .user_export_in import UserExportIn
from .user_export_in_format import UserExportInFormat
from .user_filters import UserFilters
from .user_out import UserOut
from .verify_email_in import VerifyEmailIn

__all__ = (
    "AdminUpdateUserIn",
    "AvatarOut",
    "AvatarOutSizes",
    "BindPhoneIn",
    "BodyTokenApiV1AuthTokenPost",
    "ChangePasswordIn",
    "CheckoutOut",
    "CheckoutOutJsapiType0",
    "ExportOrdersCsvApiV1OrdersExportCsvGetStatusType0",
    "ExportOrdersXlsxApiV1OrdersExportXlsxGetStatusType0",
    "ExportProductsCsvApiV1ProductsExportCsvGetStatusType0",
    "ExportProductsXlsxApiV1ProductsExportXlsxGetStatusType0",
    "FileOut",
    "FileOutPurpose",
    "ForgotPasswordIn",
    "GetAvatarApiV1UsersUserIdAvatarGetSize",
    "ImportProblem",
    "ImportProductsApiV1ProductsImportPostBody",
    "ImportProductsApiV1ProductsImportPostMode",
    "ImportResult",
    "ImportResultMode",
    "JobAccepted",
    "JobAcceptedStatus",
    "JobError",
    "JobOut",
    "JobOutDirection",
    "JobOutFormat",
    "JobOutKind",
    "JobOutParams",
    "JobOutStatus",
    "ListFilesApiV1FilesGetPurposeType0",
    "ListNotificationsApiV1NotificationsGetChannelType0",
    "ListNotificationsApiV1NotificationsGetStatusType0",
    "ListOrdersApiV1OrdersGetStatusType0",
    "ListProductsApiV1ProductsGetSort",
    "ListProductsApiV1ProductsGetStatusType0",
    "LoginAuditApiV1AuditLoginsGetOutcomeType0",
    "LoginAuditOut",
    "LoginIn",
    "LogoutIn",
    "MembersIn",
    "MessageIn",
    "MessageOut",
    "MessagePage",
    "MfaChallengeOut",
    "MfaChallengeOutMethodsItem",
    "MfaDisableIn",
    "MfaLoginIn",
    "MfaLoginInMethod",
    "MfaSmsIn",
    "NotificationOut",
    "NotificationOutChannel",
    "NotificationOutStatus",
    "NotificationSettingsIO",
    "NotificationSettingsIOMailItem",
    "NotificationSettingsIOSmsItem",
    "OrderCreateIn",
    "OrderExportIn",
    "OrderExportInFormat",
    "OrderFilters",
    "OrderFiltersStatusType0",
    "OrderHistoryOut",
    "OrderItemOut",
    "OrderLineIn",
    "OrderOut",
    "PageFileOut",
    "PageJobOut",
    "PageLoginAuditOut",
    "PageNotificationOut",
    "PageOrderOut",
    "PageProductOut",
    "PageRoomOut",
    "PageUserOut",
    "PayIn",
    "PayOut",
    "PaymentAttemptOut",
    "PaymentAttemptOutStatus",
    "PaymentCallbackOut",
    "PaymentFormOut",
    "PaymentFormOutFields",
    "PaymentMethodOut",
    "PresenceOut",
    "Problem",
    "ProblemError",
    "ProductCreateIn",
    "ProductCreateInStatus",
    "ProductExportIn",
    "ProductExportInFormat",
    "ProductFilters",
    "ProductFiltersStatusType0",
    "ProductOut",
    "ProductUpdateIn",
    "ProductUpdateInStatus",
    "PutAvatarApiV1UsersMeAvatarPutBody",
    "ReadIn",
    "ReadOut",
    "ReasonIn",
    "RecoveryCodesOut",
    "RefreshIn",
    "RefundIn",
    "RefundOut",
    "RefundOutStatus",
    "RegisterIn",
    "ResetPasswordInType0",
    "ResetPasswordInType1",
    "RoleOut",
    "RoomCreateInType0",
    "RoomCreateInType1",
    "RoomOut",
    "RoomOutKind",
    "SessionOut",
    "ShipIn",
    "SmsCodeIn",
    "SmsCodeInPurpose",
    "SmsLoginIn",
    "TicketOut",
    "TokenPairOut",
    "TotpConfirmIn",
    "TotpSetupOut",
    "UpdateMeIn",
    "UploadFileApiV1FilesPostBody",
    "UploadFileApiV1FilesPostBodyPurpose",
    "UploadOrderDocumentApiV1OrdersOrderIdDocumentsPostBody",
    "UserExportIn",
    "UserExportInFormat",
    "UserFilters",
    "UserOut",
    "VerifyEmailIn",
)
