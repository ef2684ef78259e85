// Static vocabulary of the synthetic store. Brand names are invented.
#include "ingest/generator_vocab.h"

#include <algorithm>
#include <array>
#include <utility>

namespace souk::gen::internal {

namespace {

using K = ProductKind;

std::vector<TopSpec> BuildTaxonomy() {
  return {
      {"Electronics", "数码",
       {
           {"Audio", "音频",
            {{"Headphones", "耳机", 89, K::kDevice},
             {"Earbuds", "入耳式耳机", 59, K::kDevice},
             {"Bluetooth Speakers", "蓝牙音箱", 69, K::kDevice},
             {"Soundbars", "回音壁", 199, K::kDevice}}},
           {"Phones", "手机通讯",
            {{"Smartphones", "智能手机", 499, K::kDevice},
             {"Phone Cases", "手机壳", 15, K::kHome},
             {"Screen Protectors", "手机贴膜", 9, K::kHome},
             {"Chargers", "充电器", 25, K::kDevice},
             {"Power Banks", "充电宝", 35, K::kDevice}}},
           {"Computers", "电脑办公",
            {{"Laptops", "笔记本电脑", 899, K::kDevice},
             {"Keyboards", "键盘", 59, K::kDevice},
             {"Mice", "鼠标", 29, K::kDevice},
             {"Monitors", "显示器", 229, K::kDevice},
             {"Laptop Bags", "电脑包", 39, K::kHome}}},
           {"Cameras", "摄影摄像",
            {{"Digital Cameras", "数码相机", 649, K::kDevice},
             {"Memory Cards", "存储卡", 19, K::kDevice},
             {"Tripods", "三脚架", 45, K::kHome},
             {"Camera Lenses", "镜头", 399, K::kDevice}}},
           {"Wearables", "智能穿戴",
            {{"Smartwatches", "智能手表", 249, K::kDevice},
             {"Fitness Trackers", "运动手环", 59, K::kDevice},
             {"Watch Bands", "表带", 19, K::kHome}}},
       }},
      {"Home & Kitchen", "家居厨房",
       {
           {"Cookware", "锅具",
            {{"Frying Pans", "煎锅", 39, K::kHome},
             {"Saucepans", "汤锅", 45, K::kHome},
             {"Woks", "炒锅", 49, K::kHome},
             {"Dutch Ovens", "铸铁锅", 89, K::kHome}}},
           {"Kitchen Appliances", "厨房电器",
            {{"Coffee Makers", "咖啡机", 129, K::kDevice},
             {"Blenders", "搅拌机", 69, K::kDevice},
             {"Rice Cookers", "电饭煲", 79, K::kDevice},
             {"Electric Kettles", "电热水壶", 35, K::kDevice},
             {"Air Fryers", "空气炸锅", 99, K::kDevice}}},
           {"Tableware", "餐具",
            {{"Plates", "餐盘", 25, K::kHome},
             {"Mugs", "马克杯", 14, K::kHome},
             {"Bowls", "碗", 18, K::kHome},
             {"Chopsticks", "筷子", 12, K::kHome}}},
           {"Bedding", "床上用品",
            {{"Pillows", "枕头", 35, K::kHome},
             {"Duvets", "被子", 89, K::kHome},
             {"Bed Sheets", "床单", 45, K::kHome}}},
           {"Storage", "收纳整理",
            {{"Storage Boxes", "收纳箱", 22, K::kHome},
             {"Hangers", "衣架", 15, K::kHome},
             {"Shelves", "置物架", 49, K::kHome},
             {"Trash Bags", "垃圾袋", 9, K::kPack}}},
       }},
      {"Fashion", "服饰鞋包",
       {
           {"Men's Clothing", "男装",
            {{"T-Shirts", "T恤", 19, K::kApparel},
             {"Shirts", "衬衫", 35, K::kApparel},
             {"Jeans", "牛仔裤", 49, K::kApparel},
             {"Jackets", "夹克", 79, K::kApparel},
             {"Sweaters", "毛衣", 55, K::kApparel}}},
           {"Women's Clothing", "女装",
            {{"Dresses", "连衣裙", 59, K::kApparel},
             {"Blouses", "女士衬衫", 35, K::kApparel},
             {"Skirts", "半身裙", 39, K::kApparel},
             {"Coats", "大衣", 129, K::kApparel}}},
           {"Shoes", "鞋靴",
            {{"Sneakers", "运动鞋", 79, K::kShoes},
             {"Running Shoes", "跑步鞋", 99, K::kShoes},
             {"Boots", "靴子", 119, K::kShoes},
             {"Sandals", "凉鞋", 39, K::kShoes}}},
           {"Bags", "箱包",
            {{"Backpacks", "双肩包", 49, K::kHome},
             {"Handbags", "手提包", 89, K::kHome},
             {"Suitcases", "行李箱", 129, K::kHome},
             {"Wallets", "钱包", 29, K::kHome}}},
           {"Accessories", "配饰",
            {{"Hats", "帽子", 22, K::kApparel},
             {"Scarves", "围巾", 29, K::kApparel},
             {"Belts", "腰带", 25, K::kHome},
             {"Sunglasses", "太阳镜", 59, K::kHome}}},
       }},
      {"Beauty & Personal Care", "美妆个护",
       {
           {"Skincare", "护肤",
            {{"Face Cream", "面霜", 32, K::kLiquid},
             {"Serum", "精华液", 45, K::kLiquid},
             {"Cleanser", "洁面乳", 15, K::kLiquid},
             {"Sunscreen", "防晒霜", 18, K::kLiquid},
             {"Face Masks", "面膜", 20, K::kPack}}},
           {"Makeup", "彩妆",
            {{"Lipstick", "口红", 22, K::kDevice},
             {"Foundation", "粉底液", 35, K::kLiquid},
             {"Mascara", "睫毛膏", 19, K::kLiquid},
             {"Eyeshadow", "眼影", 29, K::kDevice}}},
           {"Hair Care", "洗护发",
            {{"Shampoo", "洗发水", 12, K::kLiquid},
             {"Conditioner", "护发素", 12, K::kLiquid},
             {"Hair Dryers", "吹风机", 59, K::kDevice}}},
           {"Fragrance", "香水香氛",
            {{"Perfume", "香水", 79, K::kLiquid},
             {"Body Mist", "香氛喷雾", 25, K::kLiquid}}},
           {"Oral Care", "口腔护理",
            {{"Toothpaste", "牙膏", 6, K::kLiquid},
             {"Electric Toothbrushes", "电动牙刷", 69, K::kDevice},
             {"Toothbrush Heads", "替换刷头", 19, K::kPack}}},
       }},
      {"Grocery", "食品饮料",
       {
           {"Beverages", "饮料冲调",
            {{"Coffee Beans", "咖啡豆", 16, K::kFood},
             {"Tea", "茶叶", 14, K::kFood},
             {"Juice", "果汁", 5, K::kLiquid},
             {"Sparkling Water", "气泡水", 6, K::kLiquid}}},
           {"Snacks", "休闲零食",
            {{"Chips", "薯片", 4, K::kFood},
             {"Nuts", "坚果", 12, K::kFood},
             {"Cookies", "饼干", 5, K::kFood},
             {"Chocolate", "巧克力", 8, K::kFood}}},
           {"Pantry", "粮油调味",
            {{"Rice", "大米", 15, K::kFood},
             {"Cooking Oil", "食用油", 11, K::kLiquid},
             {"Soy Sauce", "酱油", 5, K::kLiquid},
             {"Pasta", "意大利面", 4, K::kFood}}},
           {"Breakfast", "早餐",
            {{"Cereal", "麦片", 6, K::kFood},
             {"Oatmeal", "燕麦片", 7, K::kFood},
             {"Honey", "蜂蜜", 12, K::kFood}}},
           {"Dairy", "乳品",
            {{"Milk", "牛奶", 4, K::kLiquid},
             {"Yogurt", "酸奶", 5, K::kFood},
             {"Cheese", "奶酪", 8, K::kFood}}},
       }},
      {"Sports & Outdoors", "运动户外",
       {
           {"Fitness", "健身训练",
            {{"Yoga Mats", "瑜伽垫", 29, K::kHome},
             {"Dumbbells", "哑铃", 45, K::kHome},
             {"Resistance Bands", "弹力带", 15, K::kHome},
             {"Jump Ropes", "跳绳", 12, K::kHome}}},
           {"Camping", "露营",
            {{"Tents", "帐篷", 149, K::kHome},
             {"Sleeping Bags", "睡袋", 69, K::kHome},
             {"Camping Lanterns", "露营灯", 29, K::kDevice},
             {"Camping Chairs", "露营椅", 39, K::kHome}}},
           {"Cycling", "骑行",
            {{"Bicycles", "自行车", 399, K::kHome},
             {"Bike Helmets", "骑行头盔", 49, K::kHome},
             {"Bike Lights", "自行车灯", 25, K::kDevice}}},
           {"Sportswear", "运动服饰",
            {{"Sports Bras", "运动内衣", 35, K::kApparel},
             {"Running Shorts", "跑步短裤", 29, K::kApparel},
             {"Track Jackets", "运动外套", 65, K::kApparel}}},
           {"Water Sports", "水上运动",
            {{"Swimsuits", "泳衣", 39, K::kApparel},
             {"Swim Goggles", "泳镜", 19, K::kHome},
             {"Water Bottles", "运动水壶", 19, K::kHome}}},
       }},
      {"Baby & Toys", "母婴玩具",
       {
           {"Baby Care", "婴儿护理",
            {{"Diapers", "纸尿裤", 29, K::kPack},
             {"Baby Wipes", "婴儿湿巾", 12, K::kPack},
             {"Baby Lotion", "婴儿润肤露", 11, K::kLiquid}}},
           {"Feeding", "喂养用品",
            {{"Baby Bottles", "奶瓶", 18, K::kHome},
             {"Infant Formula", "婴儿奶粉", 35, K::kFood},
             {"Bottle Nipples", "奶嘴", 9, K::kPack}}},
           {"Toys", "玩具",
            {{"Building Blocks", "积木", 39, K::kHome},
             {"Puzzles", "拼图", 19, K::kHome},
             {"Plush Toys", "毛绒玩具", 22, K::kHome},
             {"Remote Control Cars", "遥控车", 49, K::kDevice}}},
           {"Strollers & Car Seats", "童车座椅",
            {{"Strollers", "婴儿推车", 249, K::kHome},
             {"Car Seats", "安全座椅", 189, K::kHome}}},
           {"Kids' Clothing", "童装童鞋",
            {{"Kids' T-Shirts", "儿童T恤", 15, K::kApparel},
             {"Kids' Pajamas", "儿童睡衣", 22, K::kApparel},
             {"Kids' Shoes", "童鞋", 35, K::kShoes}}},
       }},
      {"Office & Books", "图书办公",
       {
           {"Books", "图书",
            {{"Novels", "小说", 15, K::kBook},
             {"Cookbooks", "菜谱", 25, K::kBook},
             {"Children's Books", "童书", 12, K::kBook},
             {"Business Books", "经管图书", 22, K::kBook}}},
           {"Stationery", "文具",
            {{"Notebooks", "笔记本", 9, K::kHome},
             {"Gel Pens", "中性笔", 7, K::kPack},
             {"Pencils", "铅笔", 5, K::kPack},
             {"Sticky Notes", "便利贴", 6, K::kPack}}},
           {"Office Supplies", "办公用品",
            {{"Printer Paper", "打印纸", 12, K::kPack},
             {"Staplers", "订书机", 14, K::kHome},
             {"File Folders", "文件夹", 10, K::kHome}}},
           {"Printers", "打印设备",
            {{"Printers", "打印机", 179, K::kDevice},
             {"Ink Cartridges", "墨盒", 29, K::kPack},
             {"Toner", "硒鼓", 59, K::kPack}}},
           {"Office Furniture", "办公家具",
            {{"Office Chairs", "办公椅", 149, K::kHome},
             {"Desks", "办公桌", 199, K::kHome},
             {"Desk Lamps", "台灯", 35, K::kDevice}}},
       }},
  };
}

std::vector<std::vector<BrandSpec>> BuildBrands() {
  return {
      // Electronics
      {{"Sonora", "声浪", false, 1.3}, {"Voltix", "伏特思", false, 1.0},
       {"Nexaro", "耐克萨", false, 1.6}, {"Lumetra", "流明特", false, 1.1},
       {"Kestrova", "凯思卓", false, 0.8}, {"Xinghe", "星河", true, 0.9},
       {"Leiting", "雷霆", true, 0.75}, {"Tianyu", "天语", true, 1.2}},
      // Home & Kitchen
      {{"Hearthly", "炉心", false, 1.2}, {"Cuisora", "库思拉", false, 1.5},
       {"Nestwell", "栖居", false, 1.0}, {"Ovenbrook", "欧文溪", false, 0.85},
       {"Jiayi", "家怡", true, 0.8}, {"Chuyun", "厨韵", true, 1.0},
       {"Mumu", "木木", true, 0.7}},
      // Fashion
      {{"Northvale", "北谷", false, 1.3}, {"Urbanique", "城尚", false, 1.0},
       {"Fernlea", "芬莉", false, 1.6}, {"Stride & Co", "步履", false, 1.1},
       {"Yunshang", "云裳", true, 0.9}, {"Qingfeng", "清风", true, 0.75},
       {"Moli", "茉莉", true, 1.2}},
      // Beauty
      {{"Aurelle", "奥蕾", false, 1.7}, {"Petalia", "花语", false, 1.1},
       {"Dermaly", "德玛莉", false, 1.3}, {"Freshkin", "鲜肌", false, 0.8},
       {"Yanxi", "颜曦", true, 1.0}, {"Shuiyun", "水韵", true, 0.85},
       {"Baicao", "百草", true, 0.7}},
      // Grocery
      {{"Greenfield", "绿野", false, 1.0}, {"Morning Harvest", "晨收", false, 1.2},
       {"Goldcrest", "金冠", false, 1.5}, {"Brookside", "溪畔", false, 0.8},
       {"Xiangman", "香满", true, 0.9}, {"Tianfu", "天府", true, 1.1},
       {"Hemei", "禾美", true, 0.75}},
      // Sports & Outdoors
      {{"Peakline", "峰线", false, 1.3}, {"Trailcraft", "途匠", false, 1.1},
       {"Velora", "维洛", false, 1.6}, {"Kinetiq", "动力源", false, 0.9},
       {"Benpao", "奔跑", true, 0.8}, {"Shanye", "山野", true, 1.0}},
      // Baby & Toys
      {{"Little Sprout", "小芽", false, 1.1}, {"Cuddlebee", "抱抱蜂", false, 1.3},
       {"Tinytrek", "小行者", false, 0.9}, {"Beibei", "贝贝", true, 0.8},
       {"Xiaoxiong", "小熊", true, 1.0}, {"Leyuan", "乐园", true, 0.75}},
      // Office & Books
      {{"Inkwell", "墨泉", false, 1.0}, {"Paperlane", "纸巷", false, 0.85},
       {"Deskwise", "案智", false, 1.4}, {"Scribo", "斯克利", false, 1.2},
       {"Wenfang", "文房", true, 0.9}, {"Mobao", "墨宝", true, 0.8}},
  };
}

}  // namespace

bool IsConsumable(ProductKind kind) {
  return kind == ProductKind::kLiquid || kind == ProductKind::kFood || kind == ProductKind::kPack;
}

const std::vector<TopSpec>& Taxonomy() {
  static const std::vector<TopSpec> kTaxonomy = BuildTaxonomy();
  return kTaxonomy;
}

const std::vector<Leaf>& Leaves() {
  static const std::vector<Leaf> kLeaves = [] {
    std::vector<Leaf> out;
    const auto& tax = Taxonomy();
    for (int t = 0; t < static_cast<int>(tax.size()); ++t) {
      for (int m = 0; m < static_cast<int>(tax[t].mids.size()); ++m) {
        const MidSpec& mid = tax[t].mids[m];
        for (const LeafSpec& leaf : mid.leaves) {
          Leaf l;
          l.top = t;
          l.mid = m;
          l.spec = &leaf;
          l.path_en = std::string(tax[t].en) + " > " + std::string(mid.en) + " > " +
                      std::string(leaf.en);
          l.path_zh = std::string(tax[t].zh) + " > " + std::string(mid.zh) + " > " +
                      std::string(leaf.zh);
          out.push_back(std::move(l));
        }
      }
    }
    return out;
  }();
  return kLeaves;
}

const std::vector<BrandSpec>& BrandsOf(int top) {
  static const std::vector<std::vector<BrandSpec>> kBrands = BuildBrands();
  return kBrands[static_cast<size_t>(top) % kBrands.size()];
}

const std::vector<WordPair>& Colors() {
  static const std::vector<WordPair> kColors = {
      {"Black", "黑色"}, {"White", "白色"},  {"Silver", "银色"}, {"Blue", "蓝色"},
      {"Red", "红色"},   {"Green", "绿色"},  {"Gray", "灰色"},   {"Pink", "粉色"},
      {"Beige", "米色"}, {"Navy", "藏青色"}, {"Gold", "金色"},   {"Purple", "紫色"}};
  return kColors;
}

const std::vector<WordPair>& MaterialsOf(ProductKind kind) {
  static const std::vector<WordPair> kDevice = {
      {"Aluminum", "铝合金"}, {"Plastic", "塑料"}, {"Glass", "玻璃"}, {"Silicone", "硅胶"}};
  static const std::vector<WordPair> kApparel = {
      {"Cotton", "棉"}, {"Linen", "亚麻"},  {"Polyester", "涤纶"},
      {"Wool", "羊毛"}, {"Silk", "真丝"},   {"Denim", "牛仔布"}};
  static const std::vector<WordPair> kShoes = {
      {"Leather", "真皮"}, {"Mesh", "网面"}, {"Canvas", "帆布"}, {"Suede", "麂皮"}};
  static const std::vector<WordPair> kHome = {
      {"Stainless Steel", "不锈钢"}, {"Ceramic", "陶瓷"}, {"Wood", "木质"},
      {"Bamboo", "竹"},              {"Plastic", "塑料"}, {"Cast Iron", "铸铁"},
      {"Nylon", "尼龙"},             {"Leather", "皮革"}};
  static const std::vector<WordPair> kNone = {};
  switch (kind) {
    case ProductKind::kDevice: return kDevice;
    case ProductKind::kApparel: return kApparel;
    case ProductKind::kShoes: return kShoes;
    case ProductKind::kHome: return kHome;
    default: return kNone;
  }
}

const std::vector<WordPair>& SizesOf(ProductKind kind) {
  static const std::vector<WordPair> kDevice = {
      {"Compact", "小号"}, {"Standard", "标准版"}, {"Large", "大号"}};
  static const std::vector<WordPair> kApparel = {
      {"XS", "XS"}, {"S", "S"}, {"M", "M"}, {"L", "L"}, {"XL", "XL"}, {"XXL", "XXL"}};
  static const std::vector<WordPair> kShoes = {
      {"EU 36", "36码"}, {"EU 37", "37码"}, {"EU 38", "38码"}, {"EU 39", "39码"},
      {"EU 40", "40码"}, {"EU 41", "41码"}, {"EU 42", "42码"}, {"EU 43", "43码"},
      {"EU 44", "44码"}, {"EU 45", "45码"}};
  static const std::vector<WordPair> kHome = {
      {"Small", "小号"}, {"Medium", "中号"}, {"Large", "大号"}};
  static const std::vector<WordPair> kBook = {
      {"Paperback", "平装"}, {"Hardcover", "精装"}};
  static const std::vector<WordPair> kNone = {};
  switch (kind) {
    case ProductKind::kDevice: return kDevice;
    case ProductKind::kApparel: return kApparel;
    case ProductKind::kShoes: return kShoes;
    case ProductKind::kHome: return kHome;
    case ProductKind::kBook: return kBook;
    default: return kNone;
  }
}

const std::vector<WordPair>& FeaturesOf(ProductKind kind) {
  static const std::vector<WordPair> kDevice = {
      {"Wireless", "无线"},       {"Noise-Cancelling", "降噪"}, {"Portable", "便携"},
      {"Smart", "智能"},          {"Fast-Charging", "快充"},    {"Waterproof", "防水"},
      {"Ultra-Slim", "超薄"},     {"Professional", "专业"}};
  static const std::vector<WordPair> kApparel = {
      {"Slim-Fit", "修身"}, {"Casual", "休闲"},  {"Breathable", "透气"},
      {"Classic", "经典"},  {"Oversized", "宽松"}, {"Lightweight", "轻薄"}};
  static const std::vector<WordPair> kShoes = {
      {"Cushioned", "缓震"}, {"Lightweight", "轻便"}, {"Non-Slip", "防滑"},
      {"Breathable", "透气"}, {"Classic", "经典"}};
  static const std::vector<WordPair> kHome = {
      {"Non-Stick", "不粘"}, {"Foldable", "折叠"}, {"Durable", "耐用"},
      {"Compact", "小巧"},   {"Premium", "高端"},  {"Eco-Friendly", "环保"}};
  static const std::vector<WordPair> kLiquid = {
      {"Moisturizing", "保湿"}, {"Organic", "有机"}, {"Gentle", "温和"},
      {"Refreshing", "清爽"},   {"Natural", "天然"}};
  static const std::vector<WordPair> kFood = {
      {"Organic", "有机"}, {"Premium", "优质"}, {"Roasted", "烘焙"},
      {"Low-Sugar", "低糖"}, {"Classic", "经典"}};
  static const std::vector<WordPair> kPack = {
      {"Value Pack", "超值装"}, {"Premium", "高端"}, {"Eco-Friendly", "环保"},
      {"Ultra-Soft", "超柔"}};
  static const std::vector<WordPair> kBook = {
      {"Bestselling", "畅销"}, {"Illustrated", "图解"}, {"Classic", "经典"},
      {"New Edition", "新版"}};
  switch (kind) {
    case ProductKind::kDevice: return kDevice;
    case ProductKind::kApparel: return kApparel;
    case ProductKind::kShoes: return kShoes;
    case ProductKind::kHome: return kHome;
    case ProductKind::kLiquid: return kLiquid;
    case ProductKind::kFood: return kFood;
    case ProductKind::kPack: return kPack;
    case ProductKind::kBook: return kBook;
  }
  return kDevice;
}

const std::vector<std::string_view>& AmountsOf(ProductKind kind) {
  static const std::vector<std::string_view> kLiquid = {"50ml", "100ml", "250ml", "500ml",
                                                        "1L"};
  static const std::vector<std::string_view> kFood = {"100g", "250g", "500g", "1kg", "2kg"};
  static const std::vector<std::string_view> kPack = {"10 pcs", "30 pcs", "60 pcs",
                                                      "100 pcs"};
  static const std::vector<std::string_view> kNone = {};
  switch (kind) {
    case ProductKind::kLiquid: return kLiquid;
    case ProductKind::kFood: return kFood;
    case ProductKind::kPack: return kPack;
    default: return kNone;
  }
}

const std::vector<std::string_view>& ModelPrefixes() {
  static const std::vector<std::string_view> k = {"Air", "Pro", "Nova", "Zen", "Flex",
                                                  "Ultra", "Neo", "Aero", "Max", "Eco"};
  return k;
}

const std::vector<std::string_view>& ModelSuffixes() {
  static const std::vector<std::string_view> k = {"Beat", "Wave", "Core", "Line", "One",
                                                  "Go", "Lite", "Edge", "Pulse", "Plus"};
  return k;
}

const std::vector<ComplementRule>& ComplementRules() {
  static const std::vector<ComplementRule> k = {
      {"Smartphones", "Phone Cases", 0.45},
      {"Smartphones", "Screen Protectors", 0.30},
      {"Smartphones", "Chargers", 0.15},
      {"Laptops", "Laptop Bags", 0.35},
      {"Laptops", "Mice", 0.30},
      {"Digital Cameras", "Memory Cards", 0.50},
      {"Digital Cameras", "Tripods", 0.20},
      {"Smartwatches", "Watch Bands", 0.35},
      {"Coffee Makers", "Coffee Beans", 0.45},
      {"Printers", "Ink Cartridges", 0.50},
      {"Printers", "Printer Paper", 0.30},
      {"Electric Toothbrushes", "Toothbrush Heads", 0.40},
      {"Shampoo", "Conditioner", 0.35},
      {"Baby Bottles", "Bottle Nipples", 0.40},
      {"Bicycles", "Bike Helmets", 0.40},
      {"Bicycles", "Bike Lights", 0.30},
      {"Tents", "Sleeping Bags", 0.35},
      {"Diapers", "Baby Wipes", 0.35},
      {"Desks", "Office Chairs", 0.25},
      {"Frying Pans", "Saucepans", 0.15},
      {"Yoga Mats", "Resistance Bands", 0.25},
  };
  return k;
}

int FindLeaf(std::string_view en) {
  const auto& leaves = Leaves();
  for (size_t i = 0; i < leaves.size(); ++i) {
    if (leaves[i].spec->en == en) return static_cast<int>(i);
  }
  return -1;
}

namespace {

// Pairs of (simplified, traditional) characters used by the vocabulary above and
// by the description/query templates; every pair is one code point each.
constexpr std::string_view kSimpTradPairs =
    "数數码碼频頻机機线線电電脑腦视視灯燈厨廚锅鍋饰飾装裝运運动動户戶书書乐樂护護"
    "肤膚妆妝发髮车車儿兒婴嬰戏戲办辦纸紙笔筆蓝藍绿綠红紅黄黃银銀无無键鍵盘盤标標显顯"
    "摄攝头頭储儲壳殼宝寶表錶带帶汤湯铁鐵壶壺炸炸锅鍋饭飯煲煲盘盤杯杯碗碗筷筷单單"
    "纳納箱箱架架圾圾垃垃袋袋衬襯衫衫仔仔裤褲夹夾毛毛衣衣连連裙裙靴靴凉涼双雙钱錢帽帽"
    "围圍腰腰阳陽镜鏡霜霜华華液液洁潔乳乳晒曬红紅睫睫膏膏洗洗吹吹风風香香氛氛"
    "喷噴雾霧口口腔腔牙牙刷刷换換料料调調饮飲茶茶汁汁气氣闲閒零零薯薯坚堅饼餅干乾"
    "巧巧克克粮糧油油酱醬麦麥燕燕蜂蜂蜜蜜酸酸酪酪练練瑜瑜伽伽垫墊哑啞铃鈴弹彈跳跳绳繩"
    "帐帳篷篷睡睡营營椅椅骑騎盔盔内內短短外外泳泳壶壺尿尿湿濕润潤奶奶嘴嘴积積木木拼拼"
    "图圖绒絨遥遙控控推推座座全全童童经經管管记記笔筆性性铅鉛便便贴貼订訂件件夹夾印印"
    "墨墨盒盒硒硒鼓鼓公公桌桌入入耳耳蓝藍牙牙音音箱箱回回浪浪贴貼充充宝寶键鍵鼠鼠"
    "笔筆记記包包码碼相相三三脚腳镜鏡智智能能穿穿戴戴环環锈鏽钢鋼陶陶瓷瓷质質竹竹塑塑"
    "铝鋁合合玻玻璃璃硅矽胶膠棉棉亚亞麻麻涤滌纶綸羊羊丝絲真真皮皮网網帆帆布布麂麂革革"
    "尼尼龙龍色色黑黑白白灰灰粉粉米米藏藏青青金金紫紫号號标標准準版版大大小小中中精精"
    "降降噪噪便便携攜快快防防水水超超薄薄专專业業修修身身休休经經典典透透轻輕宽寬松鬆"
    "缓緩震震滑滑耐耐用用巧巧高高端端环環保保湿濕有有机機温溫和和清清爽爽然然优優质質"
    "烘烘焙焙低低糖糖值值装裝柔柔畅暢销銷解解新新款款适適合合日日常常生生活活品品设設计計"
    "简簡约約每每天天的的选選择擇为為您您带帶来來舒舒适適体體验驗送送礼禮佳佳量量购購"
    "买買评評价價实實惠惠认認证證后後个個这這让讓层層细細节節"
    "养養冲沖凯凱叠疊叶葉备備库庫欧歐满滿炉爐热熱维維玛瑪萨薩训訓讯訊语語说說谱譜贝貝"
    "铸鑄韵韻颜顏马馬鲜鮮声聲园園云雲搅攪采採规規静靜隐隱湾灣";

std::vector<std::pair<char32_t, char32_t>> BuildS2T() {
  std::vector<std::pair<char32_t, char32_t>> out;
  std::vector<char32_t> cps;
  size_t i = 0;
  const std::string_view s = kSimpTradPairs;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    char32_t cp = 0;
    int len = 1;
    if (c < 0x80) { cp = c; }
    else if ((c >> 5) == 0x6) { cp = c & 0x1F; len = 2; }
    else if ((c >> 4) == 0xE) { cp = c & 0x0F; len = 3; }
    else { cp = c & 0x07; len = 4; }
    for (int k = 1; k < len && i + k < s.size(); ++k) {
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    }
    cps.push_back(cp);
    i += len;
  }
  for (size_t k = 0; k + 1 < cps.size(); k += 2) {
    if (cps[k] != cps[k + 1]) out.emplace_back(cps[k], cps[k + 1]);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end(),
                        [](const auto& a, const auto& b) { return a.first == b.first; }),
            out.end());
  return out;
}

void AppendUtf8(char32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace

std::string ToTraditional(std::string_view in) {
  static const std::vector<std::pair<char32_t, char32_t>> kMap = BuildS2T();
  std::string out;
  out.reserve(in.size());
  size_t i = 0;
  while (i < in.size()) {
    auto c = static_cast<unsigned char>(in[i]);
    int len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : 4;
    if (len == 3 && i + 3 <= in.size()) {
      char32_t cp = ((c & 0x0F) << 12) | ((static_cast<unsigned char>(in[i + 1]) & 0x3F) << 6) |
                    (static_cast<unsigned char>(in[i + 2]) & 0x3F);
      auto it = std::lower_bound(kMap.begin(), kMap.end(), std::make_pair(cp, char32_t{0}));
      if (it != kMap.end() && it->first == cp) {
        AppendUtf8(it->second, &out);
        i += 3;
        continue;
      }
    }
    size_t n = std::min<size_t>(static_cast<size_t>(len), in.size() - i);
    out.append(in.substr(i, n));
    i += n;
  }
  return out;
}

}  // namespace souk::gen::internal
