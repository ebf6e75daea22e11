// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

/// @title OpenVPP energy settlement
/// @notice Escrow in one stablecoin and batch settlement of peer-to-peer energy trades. Every fill is
/// checked against an EIP-712 order its owner signed, every trade pairs one buy fill with one sell
/// fill, and a buyer pays only for the energy its seller's signed meter reading shows delivered. A
/// seller that falls short pays an imbalance charge to the buyers it left short, from collateral it
/// must hold for the whole fill, so the operator can leave an order out but can never trade anyone
/// beyond what they signed, nor move one member's money to another. See SECURITY.md for the threat
/// model. Nothing here can be upgraded or re-pointed after deployment.
/// One deployment serves one community (`community`), so a member's escrow stands behind that
/// community's orders only and no other market can promise it away.
/// @dev Gas per fill is what the design optimises: no storage is written per order (an order names its
/// interval, and an interval settles once, so an order cannot be replayed), each account is one
/// storage slot, fills are packed calldata with EIP-2098 compact signatures, digests are built in
/// scratch memory, and per-batch scratch data lives in transient storage. An interval too large for
/// one transaction settles in parts (`settleIntervalPart`, then `settleInterval`): the account slot
/// then also records the last part an owner took part in, and only an owner that continues into a
/// later part costs storage (what its orders filled and its meter reading has left).
contract EnergySettlement is EIP712, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    bytes32 public constant ORDER_TYPEHASH = keccak256(
        "Order(address owner,bytes32 community,uint64 interval,uint8 side,uint64 energyWh,uint64 limitPrice,uint64 nonce)"
    );
    bytes32 public constant METER_READING_TYPEHASH =
        keccak256("MeterReading(address owner,bytes32 community,uint64 interval,uint64 exportedWh,uint64 importedWh)");
    uint8 public constant SIDE_BUY = 0;
    uint8 public constant SIDE_SELL = 1;
    /// Prices are per kWh, energy is in Wh.
    uint256 private constant WH_PER_KWH = 1000;

    /// @dev Byte layout of one fill in `settleInterval`'s `fills` (125 bytes, big-endian, packed):
    /// owner (20) ‖ side (1) ‖ energyWh (8) ‖ limitPrice (8) ‖ nonce (8) ‖ filledWh (8) ‖ price (8) ‖
    /// r (32) ‖ vs (32). The first five are the signed order (its community and interval are the
    /// batch's, so a signature for another interval or community does not recover to its owner);
    /// `filledWh` at `price` (base units per kWh, the order's own side of the price) is its fill; r ‖ vs
    /// is the owner's EIP-2098 compact signature. An order cleared at several grid nodes has one fill
    /// per node, next to each other. Packed rather than ABI-encoded: calldata is a third of a fill's gas.
    uint256 private constant FILL_BYTES = 125;
    /// @dev Byte layout of one trade in `trades` (12 bytes): buy fill index (2) ‖ sell fill index (2) ‖
    /// energyWh (8). A fill's trades add up to its `filledWh` exactly; a seller's delivered energy is
    /// given to its trades in batch order, and what a trade lacks is that trade's buyer's imbalance.
    uint256 private constant TRADE_BYTES = 12;
    /// @dev Byte layout of one meter reading in `readings` (100 bytes): owner (20) ‖ exportedWh (8) ‖
    /// importedWh (8) ‖ r (32) ‖ vs (32), signed by the meter signer.
    uint256 private constant READING_BYTES = 100;
    /// @dev One balance change in `IntervalSettled.balanceChanges`: owner (20) ‖ int128 change (16).
    uint256 private constant CHANGE_BYTES = 36;
    uint256 private constant BALANCE_MASK = (1 << 96) - 1;
    uint256 private constant CHANGE_MASK = (1 << 128) - 1;
    /// Where `Account.partMark` starts in the account's slot, and its width.
    uint256 private constant MARK_SHIFT = 200;
    uint256 private constant MARK_MASK = (1 << 56) - 1;
    /// Fill indices are two bytes in a trade.
    uint256 private constant MAX_FILLS = 65_535;

    /// One storage slot per participant.
    struct Account {
        /// 2^96 base units: 7.9e22 of a 6-decimal stablecoin.
        uint96 balance;
        /// Orders with a lower nonce are cancelled.
        uint64 minNonce;
        /// When a requested withdrawal may be taken (0: none requested).
        uint40 withdrawableAt;
        /// The last interval settled in parts that this owner took part in, as
        /// (interval / intervalLength + 1) * 2, plus 1 if it continues into a later part of it.
        uint56 partMark;
    }

    IERC20 public immutable token;
    /// The one community this contract settles (keccak256 of its name, as orders sign it).
    bytes32 public immutable community;
    /// The only address that may submit settlement batches.
    address public immutable operator;
    /// Receives every grid fee and rounding remainder; fixed at deployment.
    address public immutable feeRecipient;
    /// May pause settlement and deposits in an emergency; never withdrawals.
    address public immutable guardian;
    /// Who signs meter readings: a utility meter's data hub in a real deployment, or, when zero, each
    /// participant's own agent key (a development setting: sellers then vouch for their own delivery).
    address public immutable meterSigner;
    /// What a seller pays per kWh it sold but did not deliver, to the buyer it left short. A seller's
    /// escrow must hold this for the whole of every sell fill, so the charge is always paid in full.
    uint64 public immutable imbalancePrice;
    /// An interval may be settled only until this many seconds after it starts.
    uint64 public immutable settlementWindow;
    /// The market's interval length: every interval starts at a multiple of it, may settle only once it
    /// has ended, and may leave a seller's reading out only one more interval later.
    uint64 public immutable intervalLength;
    /// A requested withdrawal may be taken this many seconds later: longer than any interval that
    /// the owner may already have signed an order for can still settle.
    uint64 public immutable withdrawalDelay;

    mapping(address => Account) public accounts;
    /// Numbers the batches of one transaction, so each batch's transient delivery scratch has its own keys.
    uint256 private transient batchSeq;
    mapping(address => uint256) public pendingWithdrawal;
    /// Two bits per interval, 128 consecutive intervals to a slot: bit 2k is "settled" (no further
    /// part), bit 2k+1 "some part settled", for k = (interval / intervalLength) % 128 in word
    /// (interval / intervalLength) / 128.
    mapping(uint256 => uint256) private intervalBits;
    /// Wh an order filled in earlier parts of its interval, by its EIP-712 digest; written only for
    /// an owner that continues into a later part.
    mapping(bytes32 => uint256) private partFilled;
    /// Exported Wh + 1 a continuing seller's reading has left after earlier parts, by interval and owner.
    mapping(uint64 => mapping(address => uint256)) private partExport;
    /// Meter readings posted by anyone before settlement, exported Wh + 1 (0: none), by
    /// keccak256(community ‖ interval ‖ owner): the operator cannot leave a signed reading out.
    mapping(bytes32 => uint256) private postedReadings;
    bool public paused;

    event Deposited(address indexed owner, uint256 amount);
    event WithdrawalRequested(address indexed owner, uint256 amount, uint64 withdrawableAt);
    event Withdrawn(address indexed owner, uint256 amount);
    event OrdersCancelled(address indexed owner, uint64 minNonce);
    event MeterReadingPosted(bytes32 indexed community, uint64 indexed interval, address indexed owner, uint64 exportedWh);
    /// In one trade, `seller` delivered `shortfallWh` less than it sold to `buyer` and paid `charged`
    /// to that buyer for it (the buyer pays nothing for the energy it did not get).
    event ImbalanceCharged(address indexed seller, address indexed buyer, uint64 shortfallWh, uint256 charged);
    /// @notice One interval settled. `balanceChanges` holds, for every fill in batch order, the owner
    /// (20 bytes) and the change of its balance (int128, 16 bytes: what a buyer paid less the imbalance
    /// charges it received, negated; what a seller was paid less the charges it paid); with `fees` to
    /// the fee recipient it lets anyone rebuild every balance. Packed in one event because a log per
    /// fill would cost a tenth of the fill.
    event IntervalSettled(
        bytes32 indexed community, uint64 indexed interval, uint256 fills, uint256 energyWh, uint256 paid, uint256 fees, bytes balanceChanges
    );
    event Paused(bool paused);

    error NotOperator();
    error NotGuardian();
    error ZeroAddress();
    error BadParameters();
    error IsPaused();
    error IntervalAlreadySettled(bytes32 community, uint64 interval);
    error WrongCommunity(bytes32 community);
    /// An owner that took part in an earlier part of this interval without continuing into later ones.
    error OwnerAlreadySettled(address owner);
    /// An owner already took part in parts of a later interval: finish the earlier interval first.
    error OwnerInLaterInterval(address owner);
    error CarriedNotSorted(uint256 index);
    error SettlementWindowClosed(uint64 interval, uint256 deadline);
    error IntervalNotOver(uint64 interval, uint256 endsAt);
    error IntervalNotAligned(uint64 interval, uint64 intervalLength);
    error MalformedBatch();
    error InvalidOwner(uint256 fill);
    error InvalidFillAmount(uint256 fill);
    error ZeroPrice(uint256 fill);
    error InvalidSide(uint256 fill);
    error OrdersNotSorted(uint256 fill);
    error OrderCancelled(uint256 fill);
    error BadSignature(uint256 fill);
    error BadMeterReading(uint256 reading);
    error ReadingsNotSorted(uint256 reading);
    error ReadingAlreadyPosted(address owner);
    error MissingMeterReading(address seller, uint256 leaveOutAfter);
    error PriceOutsideLimit(uint256 fill);
    error InvalidTrade(uint256 trade);
    error TradesDoNotMatchFill(uint256 fill, uint256 tradedWh);
    error InsufficientEscrow(address owner, uint256 needed, uint256 available);
    error InsufficientCollateral(address owner, uint256 needed, uint256 available);
    error MoneyNotConserved(uint256 paid, uint256 received);
    error NonceNotIncreasing(uint64 current, uint64 requested);
    error WithdrawalNotReady(uint256 withdrawableAt);
    error NothingToWithdraw();
    error AmountTooLarge();

    constructor(
        IERC20 token_,
        bytes32 community_,
        address operator_,
        address feeRecipient_,
        address guardian_,
        address meterSigner_,
        uint64 imbalancePrice_,
        uint64 settlementWindow_,
        uint64 withdrawalDelay_,
        uint64 intervalLength_
    ) EIP712("OpenVPP", "1") {
        if (address(token_) == address(0) || operator_ == address(0) || feeRecipient_ == address(0) || guardian_ == address(0)) {
            revert ZeroAddress();
        }
        // A withdrawal must wait out every settlement that could still take from the balance, and an
        // interval must be settleable after its readings' grace (two lengths after its start).
        if (
            community_ == bytes32(0) || intervalLength_ == 0 || settlementWindow_ <= 2 * uint256(intervalLength_)
                || withdrawalDelay_ <= settlementWindow_ || withdrawalDelay_ > type(uint32).max
        ) {
            revert BadParameters();
        }
        token = token_;
        community = community_;
        operator = operator_;
        feeRecipient = feeRecipient_;
        guardian = guardian_;
        meterSigner = meterSigner_;
        imbalancePrice = imbalancePrice_;
        settlementWindow = settlementWindow_;
        withdrawalDelay = withdrawalDelay_;
        intervalLength = intervalLength_;
    }

    // ───────────────────────────── escrow ─────────────────────────────

    /// @notice The escrow balance of `owner`, in token base units.
    function balanceOf(address owner) external view returns (uint256) {
        return accounts[owner].balance;
    }

    /// @notice Moves `amount` of the stablecoin from the caller into its escrow balance.
    function deposit(uint256 amount) external nonReentrant {
        _deposit(msg.sender, amount);
    }

    /// @notice Deposit with an EIP-2612 permit, so no separate approve transaction is needed.
    function depositWithPermit(uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s) external nonReentrant {
        IERC20Permit(address(token)).permit(msg.sender, address(this), amount, deadline, v, r, s);
        _deposit(msg.sender, amount);
    }

    /// @notice Announces a withdrawal of `amount`, to be taken with `withdraw` after `withdrawalDelay`.
    /// Until then the balance still settles the intervals the caller traded in. Works while paused.
    function requestWithdrawal(uint256 amount) external {
        if (amount == 0) revert NothingToWithdraw();
        uint64 at = uint64(block.timestamp) + withdrawalDelay;
        accounts[msg.sender].withdrawableAt = uint40(at);
        pendingWithdrawal[msg.sender] = amount;
        emit WithdrawalRequested(msg.sender, amount, at);
    }

    /// @notice Takes the requested withdrawal (or the whole balance, if that is less) once its delay
    /// has passed. Never blocked by a pause.
    function withdraw() external nonReentrant {
        Account storage account = accounts[msg.sender];
        uint256 at = account.withdrawableAt;
        if (at == 0) revert NothingToWithdraw();
        if (block.timestamp < at) revert WithdrawalNotReady(at);
        uint256 amount = pendingWithdrawal[msg.sender];
        if (amount > account.balance) amount = account.balance;
        account.balance -= uint96(amount);
        account.withdrawableAt = 0;
        pendingWithdrawal[msg.sender] = 0;
        emit Withdrawn(msg.sender, amount);
        token.safeTransfer(msg.sender, amount);
    }

    /// @notice Cancels every order of the caller with a nonce below `minNonce`, in one call.
    function cancelUpTo(uint64 minNonce) external {
        Account storage account = accounts[msg.sender];
        if (minNonce <= account.minNonce) revert NonceNotIncreasing(account.minNonce, minNonce);
        account.minNonce = minNonce;
        emit OrdersCancelled(msg.sender, minNonce);
    }

    /// @notice Stops settlement and deposits (true) or resumes them (false). Withdrawals go on.
    function setPaused(bool paused_) external {
        if (msg.sender != guardian) revert NotGuardian();
        paused = paused_;
        emit Paused(paused_);
    }

    /// @notice Whether `interval` of `community_` has been settled (all of it, when it settled in parts).
    function intervalSettled(bytes32 community_, uint64 interval) public view returns (bool) {
        if (community_ != community || interval % intervalLength != 0) return false;
        uint256 index = interval / intervalLength;
        return intervalBits[index >> 7] & (uint256(1) << ((index & 0x7f) * 2)) != 0;
    }

    /// @notice Whether some part of `interval` has settled (it may still take further parts).
    function intervalPartSettled(uint64 interval) public view returns (bool) {
        if (interval % intervalLength != 0) return false;
        uint256 index = interval / intervalLength;
        return intervalBits[index >> 7] & (uint256(2) << ((index & 0x7f) * 2)) != 0;
    }

    // ──────────────────────────── signatures ────────────────────────────

    /// @notice The EIP-712 digest an order's owner signs.
    function hashOrder(
        address owner,
        bytes32 community,
        uint64 interval,
        uint8 side,
        uint64 energyWh,
        uint64 limitPrice,
        uint64 nonce
    ) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(ORDER_TYPEHASH, owner, community, interval, side, energyWh, limitPrice, nonce)));
    }

    /// @notice The EIP-712 digest a meter reading's signer signs.
    function hashMeterReading(address owner, bytes32 community, uint64 interval, uint64 exportedWh, uint64 importedWh)
        public
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(keccak256(abi.encode(METER_READING_TYPEHASH, owner, community, interval, exportedWh, importedWh)));
    }

    // ──────────────────────────── meter readings ────────────────────────────

    /// @notice Puts a signed meter reading on chain for an interval that has not settled, so settlement
    /// uses it even if the operator's batch leaves it out. Anyone may post it (the seller, its agent, the
    /// meter data hub); the first posted reading of an owner and interval stands.
    function postMeterReading(bytes32 community_, uint64 interval, address owner, uint64 exportedWh, uint64 importedWh, bytes32 r, bytes32 vs)
        external
    {
        if (community_ != community) revert WrongCommunity(community_);
        if (interval % intervalLength != 0) revert IntervalNotAligned(interval, intervalLength);
        if (intervalSettled(community, interval)) revert IntervalAlreadySettled(community, interval);
        if (uint160(owner) <= 1) revert BadMeterReading(0);
        bytes32 digest = _readingDigest(_domainSeparatorV4(), uint160(owner), community, interval, exportedWh, importedWh);
        if (!_signedBy(digest, r, vs, meterSigner == address(0) ? owner : meterSigner)) revert BadMeterReading(0);
        bytes32 key = _readingKey(community, interval, owner);
        if (postedReadings[key] != 0) revert ReadingAlreadyPosted(owner);
        postedReadings[key] = uint256(exportedWh) + 1;
        emit MeterReadingPosted(community, interval, owner, exportedWh);
    }

    // ──────────────────────────── settlement ────────────────────────────

    /// @notice Settles one market interval of the community, once it has ended, or the last part of an
    /// interval settled in parts. Every fill is checked against its signed order; every trade pairs a
    /// buy fill with a sell fill; a buyer pays its price for the energy its seller's signed meter
    /// reading shows delivered in that trade, and receives the seller's imbalance charge for the rest;
    /// grid fees and rounding go to the fee recipient. No part of the interval settles after this.
    /// @param fills packed fills (see FILL_BYTES), grouped by order, distinct orders in strictly
    /// increasing order of their EIP-712 digest.
    /// @param trades packed trades (see TRADE_BYTES) between those fills.
    /// @param readings packed meter readings (see READING_BYTES), at most one per owner, in strictly
    /// increasing order of owner address. A seller with none here is judged by its posted reading, and
    /// may have neither only once the interval ended an interval ago (it then delivered nothing).
    function settleInterval(bytes32 community_, uint64 interval, bytes calldata fills, bytes calldata trades, bytes calldata readings)
        external
        nonReentrant
    {
        _settle(community_, interval, fills, trades, readings, msg.data[0:0], true);
    }

    /// @notice Settles one part of an interval too large for one transaction; more parts may follow,
    /// and `settleInterval` settles the last. Each part is checked as a whole interval is. An owner
    /// may take part in a later part only if listed in `carried` in every earlier part it took part
    /// in: its orders then carry what they filled (never more than signed, over all parts) and its
    /// meter reading what it has left, so no order and no delivered Wh is used twice.
    /// @param carried owners (20 bytes each, strictly increasing) that continue into a later part.
    function settleIntervalPart(
        bytes32 community_,
        uint64 interval,
        bytes calldata fills,
        bytes calldata trades,
        bytes calldata readings,
        bytes calldata carried
    ) external nonReentrant {
        _settle(community_, interval, fills, trades, readings, carried, false);
    }

    /// How a batch takes part in an interval settled in parts.
    struct Part {
        /// Earlier parts exist or this is not the last: owners' part marks are checked.
        bool checked;
        /// Not the last part: part marks, carried fills and readings are written.
        bool writes;
        /// (interval / intervalLength + 1) * 2, the part mark of this interval.
        uint256 mark;
        /// Transient key prefix of the carried owners.
        uint256 carriedScratch;
    }

    function _settle(
        bytes32 community_,
        uint64 interval,
        bytes calldata fills,
        bytes calldata trades,
        bytes calldata readings,
        bytes calldata carried,
        bool last
    ) private {
        if (msg.sender != operator) revert NotOperator();
        if (paused) revert IsPaused();
        if (community_ != community) revert WrongCommunity(community_);
        if (interval % intervalLength != 0) revert IntervalNotAligned(interval, intervalLength);
        uint256 index = interval / intervalLength;
        uint256 bits = intervalBits[index >> 7];
        uint256 shift = (index & 0x7f) * 2;
        if (bits & (uint256(1) << shift) != 0) revert IntervalAlreadySettled(community, interval);
        uint256 endsAt = uint256(interval) + intervalLength;
        if (block.timestamp < endsAt) revert IntervalNotOver(interval, endsAt);
        uint256 deadline = uint256(interval) + settlementWindow;
        if (block.timestamp >= deadline) revert SettlementWindowClosed(interval, deadline);
        if (
            fills.length % FILL_BYTES != 0 || trades.length % TRADE_BYTES != 0 || readings.length % READING_BYTES != 0
                || carried.length % 20 != 0
        ) {
            revert MalformedBatch();
        }
        uint256 count = fills.length / FILL_BYTES;
        if (count > MAX_FILLS) revert MalformedBatch();
        bool earlierParts = bits & (uint256(2) << shift) != 0;
        intervalBits[index >> 7] = bits | (uint256(last ? 1 : 2) << shift);

        bytes32 domain = _domainSeparatorV4();
        uint256 scratch = ++batchSeq << 160;
        Part memory part = Part(earlierParts || !last, !last, (index + 1) * 2, 0);
        if (!last) part.carriedScratch = _recordCarried(carried);
        _recordReadings(domain, interval, readings, scratch, part);
        _checkFills(domain, interval, fills);
        if (part.checked) _checkParts(domain, interval, fills, scratch, part);
        Ledger memory ledger = Ledger(new uint256[](count), new uint256[](count), new uint256[](count), 0);
        _applyTrades(interval, fills, trades, scratch, ledger);
        if (!last) _recordCarriedExports(interval, carried, scratch);
        bytes memory changes = new bytes(count * CHANGE_BYTES);
        (uint256 paid, uint256 received) = _moveMoney(fills, ledger, changes, part);

        if (paid < received) revert MoneyNotConserved(paid, received);
        uint256 fees = paid - received;
        if (fees != 0) accounts[feeRecipient].balance += uint96(fees);
        emit IntervalSettled(community, interval, count, ledger.energyWh, paid, fees, changes);
    }

    /// Per fill of one batch: the energy its trades name, the part of it delivered, and imbalance
    /// charges (what a sell fill pays, or what a buy fill receives).
    struct Ledger {
        uint256[] tradedWh;
        uint256[] deliveredWh;
        uint256[] charges;
        uint256 energyWh;
    }

    /// Marks each carried owner in transient storage under a fresh prefix, which it returns.
    function _recordCarried(bytes calldata carried) private returns (uint256 prefix) {
        prefix = ++batchSeq << 160;
        uint256 previous;
        uint256 count = carried.length / 20;
        for (uint256 i; i < count; ++i) {
            uint256 owner = _word(_at(carried, i * 20), 20);
            if (owner <= previous) revert CarriedNotSorted(i);
            previous = owner;
            assembly ("memory-safe") {
                tstore(or(prefix, owner), 1)
            }
        }
    }

    function _isCarried(Part memory part, uint256 owner) private view returns (bool carried) {
        if (!part.writes) return false;
        uint256 key = part.carriedScratch | owner;
        assembly ("memory-safe") {
            carried := tload(key)
        }
    }

    /// Keeps what each carried seller's reading has left after this part for its later parts.
    function _recordCarriedExports(uint64 interval, bytes calldata carried, uint256 scratch) private {
        uint256 count = carried.length / 20;
        for (uint256 i; i < count; ++i) {
            uint256 owner = _word(_at(carried, i * 20), 20);
            uint256 left;
            assembly ("memory-safe") {
                left := tload(or(scratch, owner))
            }
            if (left != 0) partExport[interval][address(uint160(owner))] = left;
        }
    }

    /// Verifies each reading and keeps its exported energy in transient storage for this batch, under
    /// the key `scratch | owner` (transient storage ends with the transaction; `scratch` keeps two
    /// batches in one transaction apart). For an owner continuing from an earlier part, what its
    /// reading had left then stands instead: the part that used some of it recorded the remainder.
    function _recordReadings(bytes32 domain, uint64 interval, bytes calldata readings, uint256 scratch, Part memory part) private {
        address signer = meterSigner;
        uint256 previous = 1; // owners 0 and 1 hold no key
        uint256 count = readings.length / READING_BYTES;
        for (uint256 i; i < count; ++i) {
            uint256 p = _at(readings, i * READING_BYTES);
            uint256 owner = _word(p, 20);
            if (owner <= 1) revert BadMeterReading(i);
            if (owner <= previous) revert ReadingsNotSorted(i);
            previous = owner;
            uint256 exportedWh = _word(p + 20, 8);
            bytes32 digest = _readingDigest(domain, owner, community, interval, exportedWh, _word(p + 28, 8));
            address expected = signer == address(0) ? address(uint160(owner)) : signer;
            if (!_signedBy(digest, bytes32(_word(p + 36, 32)), bytes32(_word(p + 68, 32)), expected)) revert BadMeterReading(i);
            // Stored + 1, so that 0 means "no reading in the batch".
            uint256 left = exportedWh + 1;
            if (part.checked) {
                uint256 carriedLeft = _carriedExport(interval, address(uint160(owner)), part);
                if (carriedLeft != 0) left = carriedLeft;
            }
            assembly ("memory-safe") {
                tstore(or(scratch, owner), left)
            }
        }
    }

    /// Checks every fill against its signed order: owner, side, amounts, price limit, cancellation and
    /// signature. Moves no money.
    function _checkFills(bytes32 domain, uint64 interval, bytes calldata fills) private view {
        uint256 current;
        uint256 currentFilledWh;
        uint256 count = fills.length / FILL_BYTES;
        // Unchecked: every quantity is a uint64 from calldata, so sums of them stay far below 2^256.
        unchecked {
            for (uint256 i; i < count; ++i) {
                uint256 p = _at(fills, i * FILL_BYTES);
                address owner = address(uint160(_word(p, 20)));
                if (uint160(owner) <= 1) revert InvalidOwner(i);
                uint256 filledWh = _word(p + 45, 8);
                if (filledWh == 0) revert InvalidFillAmount(i);
                uint256 price = _word(p + 53, 8);
                uint256 limitPrice = _word(p + 29, 8);
                if (price == 0 || limitPrice == 0) revert ZeroPrice(i);
                uint256 side = _word(p + 20, 1);
                if (side == SIDE_BUY) {
                    if (price > limitPrice) revert PriceOutsideLimit(i);
                } else if (side == SIDE_SELL) {
                    if (price < limitPrice) revert PriceOutsideLimit(i);
                } else {
                    revert InvalidSide(i);
                }
                uint256 digest = uint256(_orderDigest(domain, community, interval, p));
                if (digest != current) {
                    // Distinct orders in increasing digest order: no order can be used twice in a batch,
                    // and its interval settles only once, so it can never be used again.
                    if (digest <= current) revert OrdersNotSorted(i);
                    if (_word(p + 37, 8) < accounts[owner].minNonce) revert OrderCancelled(i);
                    if (!_signedBy(bytes32(digest), bytes32(_word(p + 61, 32)), bytes32(_word(p + 93, 32)), owner)) revert BadSignature(i);
                    current = digest;
                    currentFilledWh = 0;
                }
                currentFilledWh += filledWh;
                if (currentFilledWh > _word(p + 21, 8)) revert InvalidFillAmount(i);
            }
        }
    }

    /// In an interval settled in parts, checks each order against what it filled in earlier parts
    /// (never more than signed, over all parts) and records what a carried owner's orders have filled.
    /// A pass of its own, so that an interval settled in one transaction pays nothing for it.
    function _checkParts(bytes32 domain, uint64 interval, bytes calldata fills, uint256 scratch, Part memory part) private {
        uint256 current;
        uint256 filled;
        bool carried;
        uint256 count = fills.length / FILL_BYTES;
        unchecked {
            for (uint256 i; i < count; ++i) {
                uint256 p = _at(fills, i * FILL_BYTES);
                uint256 digest = uint256(_orderDigest(domain, community, interval, p));
                if (digest != current) {
                    if (carried) partFilled[bytes32(current)] = filled;
                    address owner = address(uint160(_word(p, 20)));
                    current = digest;
                    filled = part.checked ? _earlierParts(interval, owner, bytes32(digest), scratch, part) : 0;
                    carried = _isCarried(part, uint160(owner));
                }
                filled += _word(p + 45, 8);
                if (filled > _word(p + 21, 8)) revert InvalidFillAmount(i);
            }
        }
        if (carried) partFilled[bytes32(current)] = filled;
    }

    /// In an interval settled in parts, what an order filled in earlier parts: nothing for an owner
    /// new to the interval; for an owner that continues, what its order carried (and its reading's
    /// remainder replaces any reading in this batch). An owner that took part without
    /// continuing, or already in parts of a later interval, is refused.
    function _earlierParts(uint64 interval, address owner, bytes32 digest, uint256 scratch, Part memory part)
        private
        returns (uint256 filled)
    {
        uint256 mark = accounts[owner].partMark;
        uint256 seen = mark & ~uint256(1);
        if (seen > part.mark) revert OwnerInLaterInterval(owner);
        if (seen != part.mark) return 0;
        if (mark & 1 == 0) revert OwnerAlreadySettled(owner);
        filled = partFilled[digest];
        uint256 left = partExport[interval][owner];
        if (left != 0) {
            uint256 key = scratch | uint160(owner);
            assembly ("memory-safe") {
                tstore(key, left)
            }
        }
    }

    /// What a continuing owner's reading had left after the earlier parts (exported Wh + 1), or 0 if
    /// it is not continuing or none of its reading was used.
    function _carriedExport(uint64 interval, address owner, Part memory part) private view returns (uint256) {
        if (accounts[owner].partMark != part.mark | 1) return 0;
        return partExport[interval][owner];
    }

    /// Walks the trades: gives each seller's delivered energy to its trades in batch order and charges
    /// it, per trade, the imbalance price for what it lacked, to that trade's buyer.
    function _applyTrades(uint64 interval, bytes calldata fills, bytes calldata trades, uint256 scratch, Ledger memory ledger) private {
        uint256 count = fills.length / FILL_BYTES;
        uint256 tradeCount = trades.length / TRADE_BYTES;
        bool mayLeaveOut = block.timestamp >= uint256(interval) + 2 * uint256(intervalLength);
        unchecked {
            for (uint256 t; t < tradeCount; ++t) {
                uint256 q = _at(trades, t * TRADE_BYTES);
                uint256 b = _word(q, 2);
                uint256 s = _word(q + 2, 2);
                uint256 energyWh = _word(q + 4, 8);
                if (b >= count || s >= count || energyWh == 0) revert InvalidTrade(t);
                uint256 pb = _at(fills, b * FILL_BYTES);
                uint256 ps = _at(fills, s * FILL_BYTES);
                // A buy fill against a sell fill, the buyer's price covering the seller's.
                if (_word(pb + 20, 1) != SIDE_BUY || _word(ps + 20, 1) != SIDE_SELL) revert InvalidTrade(t);
                if (_word(pb + 53, 8) < _word(ps + 53, 8)) revert InvalidTrade(t);
                ledger.tradedWh[b] += energyWh;
                ledger.tradedWh[s] += energyWh;
                ledger.energyWh += energyWh;

                uint256 seller = _word(ps, 20);
                uint256 left;
                assembly ("memory-safe") {
                    left := tload(or(scratch, seller))
                }
                if (left == 0) left = _postedReading(interval, address(uint160(seller)), mayLeaveOut);
                uint256 exported = left - 1;
                uint256 delivered = exported < energyWh ? exported : energyWh;
                assembly ("memory-safe") {
                    tstore(or(scratch, seller), add(sub(exported, delivered), 1))
                }
                ledger.deliveredWh[b] += delivered;
                ledger.deliveredWh[s] += delivered;
                if (delivered != energyWh) {
                    uint256 shortfallWh = energyWh - delivered;
                    // Rounded down: within the seller's collateral for the fill, which is rounded up.
                    uint256 charge = (shortfallWh * imbalancePrice) / WH_PER_KWH;
                    ledger.charges[s] += charge;
                    ledger.charges[b] += charge;
                    emit ImbalanceCharged(address(uint160(seller)), address(uint160(_word(pb, 20))), uint64(shortfallWh), charge);
                }
            }
        }
    }

    /// A seller's posted reading as exported Wh + 1; with none, 1 (nothing delivered) once the interval
    /// may leave readings out, and a revert before that.
    function _postedReading(uint64 interval, address seller, bool mayLeaveOut) private view returns (uint256) {
        uint256 posted = postedReadings[_readingKey(community, interval, seller)];
        if (posted != 0) return posted;
        if (!mayLeaveOut) revert MissingMeterReading(seller, uint256(interval) + 2 * uint256(intervalLength));
        return 1;
    }

    /// Moves escrow for every fill: a buyer, whose escrow must cover its whole fill at its price, pays
    /// for the delivered part and receives its sellers' charges; a seller, whose escrow must cover the
    /// imbalance charge of its whole fill, is paid for the delivered part and pays its charges. In a
    /// part that is not the last, also sets each owner's part mark.
    function _moveMoney(bytes calldata fills, Ledger memory ledger, bytes memory changes, Part memory part)
        private
        returns (uint256 paid, uint256 received)
    {
        uint256 count = fills.length / FILL_BYTES;
        uint256 imbalance = imbalancePrice;
        bool writes = part.writes;
        // Unchecked: quantities are uint64s from calldata; each subtraction is guarded before it.
        unchecked {
            for (uint256 i; i < count; ++i) {
                uint256 p = _at(fills, i * FILL_BYTES);
                address owner = address(uint160(_word(p, 20)));
                uint256 filledWh = _word(p + 45, 8);
                if (ledger.tradedWh[i] != filledWh) revert TradesDoNotMatchFill(i, ledger.tradedWh[i]);
                uint256 price = _word(p + 53, 8);
                uint256 delivered = ledger.deliveredWh[i];
                uint256 charges = ledger.charges[i];
                uint256 slot = _accountSlot(owner);
                uint256 word;
                assembly ("memory-safe") {
                    word := sload(slot)
                }
                uint256 escrow = word & BALANCE_MASK;
                int256 change;
                if (_word(p + 20, 1) == SIDE_BUY) {
                    uint256 worst = (filledWh * price + WH_PER_KWH - 1) / WH_PER_KWH;
                    if (escrow < worst) revert InsufficientEscrow(owner, worst, escrow);
                    uint256 amount = (delivered * price + WH_PER_KWH - 1) / WH_PER_KWH; // buyer rounds up
                    paid += amount;
                    escrow = escrow - amount + charges;
                    change = int256(charges) - int256(amount);
                } else {
                    uint256 worst = (filledWh * imbalance + WH_PER_KWH - 1) / WH_PER_KWH;
                    if (escrow < worst) revert InsufficientCollateral(owner, worst, escrow);
                    uint256 amount = (delivered * price) / WH_PER_KWH; // seller rounds down
                    received += amount;
                    escrow = escrow + amount - charges; // charges ≤ worst ≤ escrow
                    change = int256(amount) - int256(charges);
                }
                if (escrow > BALANCE_MASK) revert AmountTooLarge();
                word = (word & ~BALANCE_MASK) | escrow;
                if (writes) {
                    uint256 mark = part.mark | (_isCarried(part, uint160(owner)) ? 1 : 0);
                    word = (word & ~(MARK_MASK << MARK_SHIFT)) | (mark << MARK_SHIFT);
                }
                assembly ("memory-safe") {
                    sstore(slot, word)
                    let at := add(add(changes, 0x20), mul(i, 36))
                    // Both stores stay inside this record's 36 bytes: the owner's top 4 bytes first,
                    // then its low 16 bytes and the change's low 128 bits (two's complement) at at+4.
                    mstore(at, shl(96, owner))
                    mstore(add(at, 4), or(shl(128, owner), and(change, CHANGE_MASK)))
                }
            }
        }
    }

    /// The EIP-712 digest of the order in the packed fill at `p`, under this batch's community and
    /// interval; the same bytes as `hashOrder`, built in scratch memory.
    function _orderDigest(bytes32 domain, bytes32 community, uint64 interval, uint256 p) private pure returns (bytes32 digest) {
        bytes32 typehash = ORDER_TYPEHASH;
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, typehash)
            mstore(add(m, 0x20), shr(96, calldataload(p))) // owner
            mstore(add(m, 0x40), community)
            mstore(add(m, 0x60), interval)
            mstore(add(m, 0x80), byte(0, calldataload(add(p, 20)))) // side
            mstore(add(m, 0xa0), shr(192, calldataload(add(p, 21)))) // energyWh
            mstore(add(m, 0xc0), shr(192, calldataload(add(p, 29)))) // limitPrice
            mstore(add(m, 0xe0), shr(192, calldataload(add(p, 37)))) // nonce
            let structHash := keccak256(m, 0x100)
            // EIP-712: keccak256("\x19\x01" ‖ domainSeparator ‖ hashStruct(message))
            mstore(m, shl(240, 0x1901))
            mstore(add(m, 0x02), domain)
            mstore(add(m, 0x22), structHash)
            digest := keccak256(m, 0x42)
        }
    }

    function _readingDigest(bytes32 domain, uint256 owner, bytes32 community, uint64 interval, uint256 exportedWh, uint256 importedWh)
        private
        pure
        returns (bytes32 digest)
    {
        bytes32 typehash = METER_READING_TYPEHASH;
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, typehash)
            mstore(add(m, 0x20), owner)
            mstore(add(m, 0x40), community)
            mstore(add(m, 0x60), interval)
            mstore(add(m, 0x80), exportedWh)
            mstore(add(m, 0xa0), importedWh)
            let structHash := keccak256(m, 0xc0)
            mstore(m, shl(240, 0x1901))
            mstore(add(m, 0x02), domain)
            mstore(add(m, 0x22), structHash)
            digest := keccak256(m, 0x42)
        }
    }

    /// Whether the EIP-2098 compact signature r ‖ vs over `digest` is `signer`'s: OpenZeppelin's
    /// tryRecover refuses a malleable (high-s) or unrecoverable signature instead of answering an
    /// address, so no owner field (not even 0 or 1) matches without a real signature.
    function _signedBy(bytes32 digest, bytes32 r, bytes32 vs, address signer) private pure returns (bool) {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, r, vs);
        return err == ECDSA.RecoverError.NoError && recovered == signer;
    }

    function _readingKey(bytes32 community, uint64 interval, address owner) private pure returns (bytes32) {
        return keccak256(abi.encode(community, interval, owner));
    }

    /// Storage slot of `accounts[owner]` (Solidity's mapping layout: keccak256(key ‖ slot)).
    function _accountSlot(address owner) private pure returns (uint256 slot) {
        assembly ("memory-safe") {
            mstore(0x00, owner)
            mstore(0x20, accounts.slot)
            slot := keccak256(0x00, 0x40)
        }
    }

    /// Calldata position of byte `offset` of `data`.
    function _at(bytes calldata data, uint256 offset) private pure returns (uint256 p) {
        assembly ("memory-safe") {
            p := add(data.offset, offset)
        }
    }

    /// The big-endian unsigned integer of `size` bytes at calldata position `p`.
    function _word(uint256 p, uint256 size) private pure returns (uint256 value) {
        assembly ("memory-safe") {
            value := shr(sub(256, mul(size, 8)), calldataload(p))
        }
    }

    function _deposit(address owner, uint256 amount) private {
        if (paused) revert IsPaused();
        if (amount > type(uint96).max - accounts[owner].balance) revert AmountTooLarge();
        token.safeTransferFrom(owner, address(this), amount);
        accounts[owner].balance += uint96(amount);
        emit Deposited(owner, amount);
    }
}
